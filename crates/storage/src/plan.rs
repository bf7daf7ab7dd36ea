//! Networks, providers and trainings: the plan's reference data ([`PlanStore`]).

use crate::pool::SqlStore;
use crate::rows::{decode, npi, split_list, tin};
use crate::sql::{INSERT_CHUNK, push_in};
use crate::{Result, on_pool};
use domain::plan::{HealthNetwork, NetworkKind};
use domain::provider::{GeoPoint, Location, Provider, ProviderKind, Taxonomy};
use domain::training::Training;
use domain::{Npi, Tin};
use sqlx::QueryBuilder;

/// The plan's reference data: health networks, the provider directory, trainings.
#[async_trait::async_trait]
pub trait PlanStore: Send + Sync {
    async fn insert_networks(&self, networks: &[HealthNetwork]) -> Result<()>;
    async fn networks(&self) -> Result<Vec<HealthNetwork>>;
    async fn insert_providers(&self, providers: &[Provider]) -> Result<()>;
    async fn provider(&self, npi: &Npi) -> Result<Option<Provider>>;
    /// Providers by NPI (unknown NPIs are left out).
    async fn providers_by_npi(&self, npis: &[Npi]) -> Result<Vec<Provider>>;
    /// Providers billing under these TINs (an office's own), groups first.
    async fn providers_of_tins(&self, tins: &[Tin], limit: i64) -> Result<Vec<ProviderChoice>>;
    /// Providers by NPI or part of the name.
    async fn search_providers(&self, text: &str, limit: i64) -> Result<Vec<ProviderChoice>>;
    async fn insert_trainings(&self, trainings: &[Training]) -> Result<()>;
    async fn trainings(&self) -> Result<Vec<Training>>;
}

/// A provider to choose as requesting or servicing provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderChoice {
    pub npi: Npi,
    pub tin: Tin,
    pub name: String,
    pub specialty: String,
    pub city: String,
}

#[async_trait::async_trait]
impl PlanStore for SqlStore {
    async fn insert_networks(&self, networks: &[HealthNetwork]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in networks.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO networks (code, name, kind, phone) ");
                q.push_values(chunk, |mut b, n| {
                    b.push_bind(&n.code).push_bind(&n.name).push_bind(n.kind.code()).push_bind(&n.phone);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn networks(&self) -> Result<Vec<HealthNetwork>> {
        let rows: Vec<(String, String, String, String)> = on_pool!(self, p, DB => sqlx::query_as::<DB, _>("SELECT code, name, kind, phone FROM networks ORDER BY code").fetch_all(p).await?);
        rows.into_iter()
            .map(|(code, name, kind, phone)| {
                Ok(HealthNetwork {
                    code,
                    name,
                    kind: decode("networks.kind", &kind, NetworkKind::from_code)?,
                    phone,
                })
            })
            .collect()
    }

    async fn insert_providers(&self, providers: &[Provider]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in providers.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO providers (npi, tin, kind, name, credential, taxonomy_code, specialty, languages, street, city, state, zip, phone, lat, lon, accepting_new, contracted, networks) ",
                );
                q.push_values(chunk, |mut b, v| {
                    let l = &v.location;
                    b.push_bind(v.npi.as_str().to_string())
                        .push_bind(v.tin.digits().to_string())
                        .push_bind(v.kind.code())
                        .push_bind(&v.name)
                        .push_bind(&v.credential)
                        .push_bind(&v.taxonomy.code)
                        .push_bind(&v.taxonomy.specialty)
                        .push_bind(v.languages.join(","))
                        .push_bind(&l.street)
                        .push_bind(&l.city)
                        .push_bind(&l.state)
                        .push_bind(&l.zip)
                        .push_bind(&l.phone)
                        .push_bind(l.point.lat)
                        .push_bind(l.point.lon)
                        .push_bind(v.accepting_new_patients)
                        .push_bind(v.contracted)
                        .push_bind(v.networks.join(","));
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn provider(&self, npi: &Npi) -> Result<Option<Provider>> {
        let row: Option<ProviderRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, ProviderRow>("SELECT * FROM providers WHERE npi = $1").bind(npi.as_str()).fetch_optional(p).await?);
        row.map(ProviderRow::into_domain).transpose()
    }

    /// Providers by NPI, in one query per chunk.
    async fn providers_by_npi(&self, npis: &[Npi]) -> Result<Vec<Provider>> {
        let mut npis: Vec<String> = npis.iter().map(|n| n.as_str().to_string()).collect();
        npis.sort_unstable();
        npis.dedup();
        let mut out = Vec::new();
        for chunk in npis.chunks(INSERT_CHUNK) {
            let found = crate::plan::providers_in(self, chunk).await?;
            out.extend(found);
        }
        Ok(out)
    }

    async fn providers_of_tins(&self, tins: &[Tin], limit: i64) -> Result<Vec<ProviderChoice>> {
        if tins.is_empty() {
            return Ok(Vec::new());
        }
        let tins: Vec<String> = tins.iter().map(|t| t.digits().to_string()).collect();
        let rows: Vec<ChoiceRow> = on_pool!(self, p, DB => {
            let mut b = QueryBuilder::<DB>::new("SELECT npi, tin, name, specialty, city FROM providers WHERE tin");
            push_in(&mut b, &tins);
            b.push(" ORDER BY kind DESC, name LIMIT ").push_bind(limit.clamp(1, 1000));
            b.build_query_as::<ChoiceRow>().fetch_all(p).await?
        });
        rows.into_iter().map(choice).collect()
    }

    /// Providers whose NPI is `text` or whose name contains it (any case).
    async fn search_providers(&self, text: &str, limit: i64) -> Result<Vec<ProviderChoice>> {
        const SQL: &str = "SELECT npi, tin, name, specialty, city FROM providers WHERE npi = $1 OR LOWER(name) LIKE $2 ORDER BY name, npi LIMIT $3";
        let text = text.trim();
        let like = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        let rows: Vec<ChoiceRow> = on_pool!(self, p, DB => sqlx::query_as::<DB, ChoiceRow>(SQL).bind(text).bind(&like).bind(limit.clamp(1, 100)).fetch_all(p).await?);
        rows.into_iter().map(choice).collect()
    }

    async fn insert_trainings(&self, trainings: &[Training]) -> Result<()> {
        on_pool!(self, p, DB => {
            let mut tx = p.begin().await?;
            for chunk in trainings.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new("INSERT INTO trainings (code, title, topic, minutes, required) ");
                q.push_values(chunk, |mut b, t| {
                    b.push_bind(&t.code).push_bind(&t.title).push_bind(&t.topic).push_bind(i64::from(t.minutes)).push_bind(t.required);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn trainings(&self) -> Result<Vec<Training>> {
        let rows: Vec<(String, String, String, i64, bool)> = on_pool!(self, p, DB =>
            sqlx::query_as::<DB, _>("SELECT code, title, topic, minutes, required FROM trainings ORDER BY topic, title").fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(code, title, topic, minutes, required)| Training {
                code,
                title,
                topic,
                minutes: u16::try_from(minutes).unwrap_or(u16::MAX),
                required,
            })
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct ProviderRow {
    npi: String,
    tin: String,
    kind: String,
    name: String,
    credential: String,
    taxonomy_code: String,
    specialty: String,
    languages: String,
    street: String,
    city: String,
    state: String,
    zip: String,
    phone: String,
    lat: f64,
    lon: f64,
    accepting_new: bool,
    contracted: bool,
    networks: String,
}

impl ProviderRow {
    fn into_domain(self) -> Result<Provider> {
        Ok(Provider {
            npi: npi("providers.npi", &self.npi)?,
            tin: tin("providers.tin", &self.tin)?,
            kind: decode("providers.kind", &self.kind, ProviderKind::from_code)?,
            name: self.name,
            credential: self.credential,
            taxonomy: Taxonomy {
                code: self.taxonomy_code,
                specialty: self.specialty,
            },
            languages: split_list(&self.languages),
            location: Location {
                street: self.street,
                city: self.city,
                state: self.state,
                zip: self.zip,
                phone: self.phone,
                point: GeoPoint {
                    lat: self.lat,
                    lon: self.lon,
                },
            },
            accepting_new_patients: self.accepting_new,
            contracted: self.contracted,
            networks: split_list(&self.networks),
        })
    }
}

/// Providers whose NPI is in `npis` (at most a chunk of bound parameters), in no order.
pub(crate) async fn providers_in(store: &SqlStore, npis: &[String]) -> Result<Vec<Provider>> {
    if npis.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ProviderRow> = on_pool!(store, p, DB => {
        let mut b = QueryBuilder::<DB>::new("SELECT * FROM providers WHERE npi");
        push_in(&mut b, npis);
        b.build_query_as::<ProviderRow>().fetch_all(p).await?
    });
    rows.into_iter().map(ProviderRow::into_domain).collect()
}

type ChoiceRow = (String, String, String, String, String);

fn choice((npi_s, tin_s, name, specialty, city): ChoiceRow) -> Result<ProviderChoice> {
    Ok(ProviderChoice {
        npi: npi("providers.npi", &npi_s)?,
        tin: tin("providers.tin", &tin_s)?,
        name,
        specialty,
        city,
    })
}
