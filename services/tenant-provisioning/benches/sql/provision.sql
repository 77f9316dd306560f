\set n random(1, 1000000000000000)
select name, slug, plan_id, response from provisioning_requests where user_id = '00000000-0000-4000-8000-0000000000be' and idempotency_key = 'pgbench-' || :client_id::text || '-' || :n::text;
begin;
select pg_advisory_xact_lock(hashtextextended('provision:' || :client_id::text || ':' || :n::text, 0));
select name, slug, plan_id, response from provisioning_requests where user_id = '00000000-0000-4000-8000-0000000000be' and idempotency_key = 'pgbench-' || :client_id::text || '-' || :n::text;
select slug from tenants where slug = 'pgb-' || :client_id::text || '-' || :n::text or slug like 'pgb-' || :client_id::text || '-' || :n::text || '-%';
insert into tenants (id, name, slug, state, starter_template_version, activated_at) values (gen_random_uuid(), 'Bench', 'pgb-' || :client_id::text || '-' || :n::text, 'active', 'v', now()) returning id as tid \gset
insert into memberships (tenant_id, user_id, role) values (:tid, gen_random_uuid(), 'owner') returning joined_at;
insert into starter_items (id, tenant_id, kind, key, name, parent_key, position) select gen_random_uuid(), :tid, 'package', k, k, '', p from unnest(array['a', 'b', 'c', 'd']) with ordinality as t (k, p);
insert into provisioning_requests (user_id, idempotency_key, name, slug, plan_id, tenant_id, response) values ('00000000-0000-4000-8000-0000000000be', 'pgbench-' || :client_id::text || '-' || :n::text, 'Bench', '', '', :tid, '\x0a0b');
commit;
