//! The plan's fixed structure (networks, trainings) and its providers.

use crate::catalog::*;
use crate::rng::{Rng, pick, weighted, weighted_by};
use domain::plan::{HealthNetwork, NetworkKind};
use domain::provider::{GeoPoint, Location, Provider, ProviderKind, Taxonomy};
use domain::training::Training;
use domain::{Npi, Tin};

/// The plan's community network (plan pays claims) and its delegated health networks.
pub fn networks() -> Vec<HealthNetwork> {
    let n = |code: &str, name: &str, kind, phone: &str| HealthNetwork {
        code: code.into(),
        name: name.into(),
        kind,
        phone: phone.into(),
    };
    vec![
        n(
            "CCN",
            "Community Network (plan-direct)",
            NetworkKind::Community,
            "7145550100",
        ),
        n(
            "HHN",
            "Harbor Health Network",
            NetworkKind::Delegated,
            "7145550110",
        ),
        n(
            "SMG",
            "Saddleback Medical Group",
            NetworkKind::Delegated,
            "9495550120",
        ),
        n(
            "CFP",
            "Coastal Family Physicians IPA",
            NetworkKind::Delegated,
            "7145550130",
        ),
        n(
            "SAV",
            "Santa Ana Valley Health Alliance",
            NetworkKind::Delegated,
            "7145550140",
        ),
        n(
            "PCH",
            "Pacific Children's Health Alliance",
            NetworkKind::Delegated,
            "7145550150",
        ),
    ]
}

pub fn trainings() -> Vec<Training> {
    let t = |code: &str, title: &str, topic: &str, minutes, required| Training {
        code: code.into(),
        title: title.into(),
        topic: topic.into(),
        minutes,
        required,
    };
    vec![
        t("fwa", "Fraud, waste and abuse", "Compliance", 30, true),
        t(
            "hipaa-privacy",
            "HIPAA privacy and security for office staff",
            "Compliance",
            25,
            true,
        ),
        t(
            "cultural-competency",
            "Cultural competency and language access",
            "Cultural competency",
            40,
            true,
        ),
        t(
            "seniors-disabilities",
            "Caring for seniors and persons with disabilities",
            "Model of care",
            45,
            true,
        ),
        t(
            "dsnp-model-of-care",
            "OneCare (D-SNP) model of care",
            "Model of care",
            35,
            true,
        ),
        t(
            "claims-837-basics",
            "Clean claims: 837P and 837I basics",
            "Claims",
            20,
            false,
        ),
        t(
            "prior-auth",
            "Referrals and prior authorization: what and when",
            "Utilization management",
            20,
            false,
        ),
        t(
            "disputes",
            "Provider disputes: filing limits and deadlines",
            "Claims",
            15,
            false,
        ),
        t(
            "pace-overview",
            "PACE: how the program works",
            "Lines of business",
            15,
            false,
        ),
    ]
}

/// Sizes of the directory for a plan of `members` members: about one practitioner per 250
/// members (the seed plan has 3,700+ physicians), a group per 8 practitioners.
pub struct DirectorySize {
    pub practitioners: u32,
    pub groups: u32,
    pub pharmacies: u32,
}

impl DirectorySize {
    pub fn for_members(members: u64) -> Self {
        let practitioners = (members / 250).clamp(40, 40_000) as u32;
        DirectorySize {
            practitioners,
            groups: practitioners.div_ceil(8),
            pharmacies: (members / 5_000).clamp(6, 600) as u32,
        }
    }
}

fn location(rng: &mut Rng) -> Location {
    let &(city, zip, lat, lon) = pick(rng, CITIES);
    // Spread offices a few miles around the city centre.
    let point = GeoPoint {
        lat: lat + rng.uniform(-0.03, 0.03),
        lon: lon + rng.uniform(-0.03, 0.03),
    };
    Location {
        street: format!("{} {}", rng.below(9_800) + 100, pick(rng, STREETS)),
        city: city.into(),
        state: "CA".into(),
        zip: zip.into(),
        phone: format!("714555{:04}", rng.below(10_000)),
        point,
    }
}

fn languages(rng: &mut Rng) -> Vec<String> {
    let mut langs = vec!["en".to_string()];
    if rng.chance(0.6) {
        langs.push(weighted(rng, LANGUAGES).to_string());
    }
    if rng.chance(0.15) {
        let l = weighted(rng, LANGUAGES).to_string();
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    langs
}

/// Network participation: everyone is in the community network; most also in one or two
/// delegated networks.
fn participation(rng: &mut Rng, nets: &[HealthNetwork]) -> Vec<String> {
    let mut v = vec![nets[0].code.clone()];
    for n in &nets[1..] {
        if rng.chance(0.35) {
            v.push(n.code.clone());
        }
    }
    v
}

/// NPI of the `seq`-th organisation (groups come first, so `org_npi(1)` is the first medical group).
pub fn org_npi(seq: u32) -> Npi {
    Npi::from_base(200_000_000 + seq * 7).expect("organisation NPI base in range")
}

fn org(
    rng: &mut Rng,
    kind: ProviderKind,
    seq: u32,
    name: String,
    taxonomy: (&str, &str),
    nets: &[HealthNetwork],
) -> Provider {
    Provider {
        npi: org_npi(seq),
        tin: Tin::parse(&format!("33{:07}", seq)).expect("generated TIN"),
        kind,
        name,
        credential: String::new(),
        taxonomy: Taxonomy {
            code: taxonomy.0.into(),
            specialty: taxonomy.1.into(),
        },
        languages: languages(rng),
        location: location(rng),
        accepting_new_patients: true,
        contracted: rng.chance(0.95),
        networks: participation(rng, nets),
    }
}

/// Groups, hospitals and pharmacies first, then practitioners billing under their group's TIN.
pub fn providers(rng: &mut Rng, size: &DirectorySize, nets: &[HealthNetwork]) -> Vec<Provider> {
    let mut out = Vec::with_capacity(
        (size.practitioners + size.groups + size.pharmacies) as usize + HOSPITALS.len(),
    );
    let mut seq = 0u32;
    for g in 0..size.groups {
        seq += 1;
        let city = pick(rng, CITIES).0;
        let (name, tax) = if g % 3 == 0 {
            (
                format!("{city} Community Clinic {}", g / 3 + 1),
                CLINIC_TAXONOMY,
            )
        } else {
            (
                format!("{} {city} Medical Group", pick(rng, LAST_NAMES)),
                GROUP_TAXONOMY,
            )
        };
        out.push(org(rng, ProviderKind::Group, seq, name, tax, nets));
    }
    for h in HOSPITALS {
        seq += 1;
        out.push(org(
            rng,
            ProviderKind::Hospital,
            seq,
            (*h).into(),
            HOSPITAL_TAXONOMY,
            nets,
        ));
    }
    for p in 0..size.pharmacies {
        seq += 1;
        let name = format!(
            "{} #{}",
            PHARMACIES[p as usize % PHARMACIES.len()],
            p / PHARMACIES.len() as u32 + 1
        );
        out.push(org(
            rng,
            ProviderKind::Pharmacy,
            seq,
            name,
            PHARMACY_TAXONOMY,
            nets,
        ));
    }
    let groups: Vec<(Tin, Location, Vec<String>)> = out[..size.groups as usize]
        .iter()
        .map(|g| (g.tin, g.location.clone(), g.networks.clone()))
        .collect();
    for i in 0..size.practitioners {
        let (tin, loc, networks) = &groups[(i % size.groups) as usize];
        let &(code, specialty, _) = weighted_by(rng, PRACTITIONER_TAXONOMIES, |t| t.2);
        let female = rng.chance(0.5);
        let first = if female {
            pick(rng, FIRST_NAMES_F)
        } else {
            pick(rng, FIRST_NAMES_M)
        };
        out.push(Provider {
            npi: Npi::from_base(100_000_000 + i * 13).expect("practitioner NPI base in range"),
            tin: *tin,
            kind: ProviderKind::Practitioner,
            name: format!("{}, {first}", pick(rng, LAST_NAMES)),
            credential: if code.starts_with("363L") {
                "NP".into()
            } else if code == "152W00000X" {
                "OD".into()
            } else {
                pick(rng, CREDENTIALS).to_string()
            },
            taxonomy: Taxonomy {
                code: code.into(),
                specialty: specialty.into(),
            },
            languages: languages(rng),
            location: loc.clone(),
            accepting_new_patients: rng.chance(0.7),
            contracted: rng.chance(0.92),
            networks: networks.clone(),
        });
    }
    out
}
