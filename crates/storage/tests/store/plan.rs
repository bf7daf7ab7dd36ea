//! The plan's reference data: networks, the provider directory, trainings.

use crate::common::*;
use domain::training::Training;
use domain::{Npi, Tin};

on_both!(
    networks_providers_and_trainings_come_back_as_stored,
    providers_are_found_by_npi_by_tin_and_by_name,
);

async fn networks_providers_and_trainings_come_back_as_stored(db: Db) {
    let store = db.store;
    let nets = networks();
    store.insert_networks(&nets).await.unwrap();
    assert_eq!(store.networks().await.unwrap(), nets);

    let p = provider(npi());
    store
        .insert_providers(std::slice::from_ref(&p))
        .await
        .unwrap();
    assert_eq!(store.provider(&npi()).await.unwrap(), Some(p));
    assert_eq!(store.provider(&other_npi()).await.unwrap(), None);

    let t = vec![Training {
        code: "fwa".into(),
        title: "Fraud, waste and abuse".into(),
        topic: "Compliance".into(),
        minutes: 30,
        required: true,
    }];
    store.insert_trainings(&t).await.unwrap();
    assert_eq!(store.trainings().await.unwrap(), t);
}

async fn providers_are_found_by_npi_by_tin_and_by_name(db: Db) {
    let store = db.store;
    store.insert_networks(&networks()).await.unwrap();
    let mut theirs = provider(other_npi());
    theirs.tin = other_tin();
    theirs.name = "Okafor, Ada".into();
    store
        .insert_providers(&[provider(npi()), theirs])
        .await
        .unwrap();

    let found = store
        .providers_by_npi(&[npi(), other_npi(), Npi::from_base(111_111_111).unwrap()])
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "unknown NPIs are left out");

    let own = store.providers_of_tins(&[tin()], 5).await.unwrap();
    assert_eq!(
        own.iter().map(|c| c.npi).collect::<Vec<_>>(),
        vec![npi()],
        "only the TIN's own providers"
    );
    assert!(store.providers_of_tins(&[], 5).await.unwrap().is_empty());
    assert!(
        store
            .providers_of_tins(&[Tin::parse("111111111").unwrap()], 5)
            .await
            .unwrap()
            .is_empty()
    );

    let by_name = store.search_providers("nguyen", 5).await.unwrap();
    assert_eq!(
        by_name.iter().map(|c| c.npi).collect::<Vec<_>>(),
        vec![npi()],
        "any case, part of the name"
    );
    assert_eq!(by_name[0].tin, tin());
    let by_npi = store
        .search_providers(other_npi().as_str(), 5)
        .await
        .unwrap();
    assert_eq!(by_npi.len(), 1);
    assert_eq!(by_npi[0].name, "Okafor, Ada");
    assert!(
        store
            .search_providers("no such name", 5)
            .await
            .unwrap()
            .is_empty()
    );
}
