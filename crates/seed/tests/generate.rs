//! The generator stores the same plan whatever the batch size, and the demo gives one account per role.

use domain::{ClaimNumber, MemberId, MemberIdIssuer};
use std::sync::Arc;
use storage::Store;

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Store> {
    storage::open(&format!("sqlite://{}/{name}.db", dir.path().display()))
        .await
        .unwrap()
}

fn opts(batch: usize) -> seed::Options {
    seed::Options {
        seed: 99,
        members: 300,
        as_of: "2026-03-15".parse().unwrap(),
        batch,
        ids: MemberIdIssuer::from_key([9; 32]),
    }
}

#[tokio::test]
async fn same_plan_whatever_the_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (sqlite(&dir, "a").await, sqlite(&dir, "b").await);
    let seen = std::sync::Mutex::new(Vec::new());
    let sa = seed::generate(&*a, &opts(7), &|n| seen.lock().unwrap().push(n))
        .await
        .unwrap();
    let sb = seed::generate(&*b, &opts(300), &|_| {}).await.unwrap();
    assert_eq!(
        (sa.members, sa.claims, sa.auths),
        (sb.members, sb.claims, sb.auths)
    );
    assert_eq!(a.counts().await.unwrap(), b.counts().await.unwrap());
    let progress = seen.into_inner().unwrap();
    assert_eq!(
        progress.len(),
        300_usize.div_ceil(7),
        "progress after every batch"
    );
    assert_eq!(progress.last(), Some(&300));

    for n in [1, 150, 300] {
        let id = opts(1).ids.issue(n);
        let (ma, mb) = (
            a.member(&id).await.unwrap().unwrap(),
            b.member(&id).await.unwrap().unwrap(),
        );
        assert_eq!(ma, mb);
        assert!(!ma.spans.is_empty(), "every member has eligibility");
    }
    // Claims are numbered member * 8 + k; find one and compare.
    let mut compared = 0;
    for n in 1..=300u64 {
        let number = ClaimNumber::from_sequence(n * 8);
        if let Some(ca) = a.claim(&number).await.unwrap() {
            assert_eq!(Some(ca), b.claim(&number).await.unwrap());
            compared += 1;
        }
    }
    assert!(
        compared > 50,
        "a 300-member plan has claims ({compared} compared)"
    );
    assert!(a.counts().await.unwrap().providers >= 40);
}

#[tokio::test]
async fn new_members_get_ids_nobody_can_work_out_from_another() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (sqlite(&dir, "ids-a").await, sqlite(&dir, "ids-b").await);
    seed::demo_with_password(&*a, "demo-password-1")
        .await
        .unwrap();
    seed::demo_with_password(&*b, "demo-password-1")
        .await
        .unwrap();
    let ids_a = a.member_ids(None, 1000).await.unwrap();
    let ids_b = b.member_ids(None, 1000).await.unwrap();
    assert_eq!(ids_a.len(), seed::DEMO_MEMBERS as usize);
    assert!(ids_a.iter().all(MemberIdIssuer::is_issued_form));
    // Each start draws its own key: the same demo plan has other IDs.
    assert!(ids_a.iter().all(|id| !ids_b.contains(id)));
    // And none is the old sequential form.
    for n in 1..=seed::DEMO_MEMBERS {
        assert!(
            a.member(&MemberId::from_sequence(n))
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn demo_has_one_account_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir, "demo").await;
    let accounts = seed::demo_with_password(&*store, "demo-password-1")
        .await
        .unwrap();
    // One account per role, plus a user of a second office (to show one office cannot see
    // another's records).
    for role in domain::account::Role::ALL {
        assert!(accounts.iter().any(|a| a.role == role.label()), "{role:?}");
    }
    assert_eq!(accounts.len(), domain::account::Role::ALL.len() + 1);
    let office = store.user_by_username("office").await.unwrap().unwrap();
    let office2 = store.user_by_username("office2").await.unwrap().unwrap();
    assert_ne!(office.org_id, office2.org_id);
    // The two offices bill under different TINs, so neither sees the other's claims.
    let org1 = store.org(office.org_id).await.unwrap().unwrap();
    let org2 = store.org(office2.org_id).await.unwrap().unwrap();
    assert!(org1.claims_allowed && !org2.claims_allowed);
    let (tin1, tin2) = (org1.tin.unwrap(), org2.tin.unwrap());
    assert_ne!(tin1, tin2);
    let scope1 = domain::access::Scope::Tins(vec![tin1]);
    let scope2 = domain::access::Scope::Tins(vec![tin2]);
    let mine = store.claims_in_scope(&scope1, 1000).await.unwrap();
    let theirs = store.claims_in_scope(&scope2, 1000).await.unwrap();
    assert!(!mine.is_empty(), "the demo office has claims to look at");
    assert!(
        mine.iter()
            .all(|c| !theirs.iter().any(|t| t.number == c.number))
    );
    assert!(
        store
            .claim_in_scope(&mine[0].number, &scope2)
            .await
            .unwrap()
            .is_none(),
        "another office's claim is not found"
    );
    let edi = store.user_by_username("edi").await.unwrap().unwrap();
    let own_tin = store
        .org(office.org_id)
        .await
        .unwrap()
        .unwrap()
        .tin
        .unwrap();
    assert_eq!(
        store.identity(edi.id).await.unwrap().unwrap().granted_tins,
        vec![own_tin],
        "the billing service acts for the demo office"
    );
    let network = store.user_by_username("network").await.unwrap().unwrap();
    assert!(
        store
            .org(network.org_id)
            .await
            .unwrap()
            .unwrap()
            .network
            .is_some()
    );
    let claims = store.user_by_username("claims").await.unwrap().unwrap();
    assert!(claims.claims && !office.claims);
    let demo_office = seed::demo_office(&*store).await.unwrap();
    assert_eq!(demo_office.tin, own_tin);
    for a in &accounts {
        let u = store
            .user_by_username(&a.username)
            .await
            .unwrap()
            .expect("account stored");
        assert!(domain::password::verify(
            "demo-password-1",
            &u.password_hash
        ));
        assert_eq!(u.role.label(), a.role);
    }
    let random = seed::demo(&*sqlite(&dir, "demo2").await).await.unwrap();
    assert_eq!(random[0].password.len(), 16);
    assert_ne!(random[0].password, "demo-password-1");
}
