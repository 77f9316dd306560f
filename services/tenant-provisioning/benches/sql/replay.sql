select name, slug, plan_id, response from provisioning_requests where user_id = '00000000-0000-4000-8000-0000000000be' and idempotency_key = 'pgbench-replay';
