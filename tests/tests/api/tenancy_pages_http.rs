//! The one pagination shape over HTTP: `?page_size=&page_token=` in, the list plus
//! `next_page_token` (null on the last page) out; bad values answer 400 naming the parameter.

use std::collections::HashSet;

use reqwest::StatusCode;

use crate::support::{
    TestStack,
    tenancy::{get, new_tenant},
};

#[tokio::test]
async fn paging_through_my_tenants_sees_each_exactly_once_and_ends_with_a_null_token() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let mut made = HashSet::new();
    for n in 0..5 {
        made.insert(new_tenant(&world, &owner, &format!("Paged {n}")).await);
    }

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token {
            None => "/v1/tenants?page_size=2".to_owned(),
            Some(token) => format!("/v1/tenants?page_size=2&page_token={token}"),
        };
        let (status, page) = get(&world, &owner, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let tenants = page["tenants"].as_array().expect("tenants");
        assert!(tenants.len() <= 2, "page_size ignored: {page}");
        seen.extend(
            tenants
                .iter()
                .map(|t| t["tenant"]["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        // The field is always there: a token, or null on the last page.
        assert!(page.get("next_page_token").is_some(), "{page}");
        match page["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5, "an item was seen twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), made);

    // Without a page_size the default page holds all five, and there is no next page.
    let (_, all) = get(&world, &owner, "/v1/tenants").await;
    assert_eq!(all["tenants"].as_array().map(Vec::len), Some(5));
    assert!(all["next_page_token"].is_null(), "{all}");
}

#[tokio::test]
async fn a_bad_page_token_or_page_size_answers_400_naming_it_on_every_list() {
    let world = TestStack::with_mail().await;
    let owner = world.verified_user().await;
    let tenant = new_tenant(&world, &owner, "Bad pages").await;
    for list in [
        "/v1/tenants".to_owned(),
        format!("/v1/tenants/{tenant}/members"),
        format!("/v1/tenants/{tenant}/invites"),
    ] {
        for (query, field) in [
            ("page_token=not-a-token", "page_token"),
            ("page_size=lots", "page_size"),
            ("page_size=0", "page_size"),
        ] {
            let (status, problem) = get(&world, &owner, &format!("{list}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}?{query}: {problem}");
            assert_eq!(problem["field"], field, "{list}?{query}: {problem}");
        }
        let (status, page) = get(&world, &owner, &format!("{list}?page_size=1")).await;
        assert_eq!(status, StatusCode::OK, "{list}: {page}");
        assert!(page.get("next_page_token").is_some(), "{list}: {page}");
    }
}
