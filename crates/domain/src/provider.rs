//! Providers in the plan's network and directory: practitioners and organisations.

use crate::coded_enum;
use crate::ids::{Npi, Tin};
use serde::{Deserialize, Serialize};

coded_enum!(
    ProviderKind {
        Practitioner = ("practitioner", "Physician or practitioner"),
        Group = ("group", "Medical group"),
        Hospital = ("hospital", "Hospital"),
        Pharmacy = ("pharmacy", "Pharmacy"),
    }
);

/// A NUCC Health Care Provider Taxonomy code with its display name (the specialty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// 10 characters, e.g. `207Q00000X` (Family Medicine).
    pub code: String,
    pub specialty: String,
}

/// A point on the map (WGS 84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// Great-circle distance in miles (haversine), what a member means by "how far".
    pub fn miles_to(self, other: GeoPoint) -> f64 {
        const EARTH_RADIUS_MILES: f64 = 3958.8;
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_MILES * a.sqrt().asin()
    }
}

/// A practice location, as listed in the public directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    /// The office's public phone (a provider's, not a member's: fine to show).
    pub phone: String,
    pub point: GeoPoint,
}

/// A provider known to the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub npi: Npi,
    pub tin: Tin,
    pub kind: ProviderKind,
    /// Person: "Last, First"; organisation: its legal or doing-business-as name.
    pub name: String,
    /// Credentials for practitioners (MD, DO, NP, ...); empty for organisations.
    pub credential: String,
    pub taxonomy: Taxonomy,
    /// ISO 639-1 codes of languages spoken at the office, e.g. `en`, `es`, `vi`.
    pub languages: Vec<String>,
    pub location: Location,
    pub accepting_new_patients: bool,
    pub contracted: bool,
    /// Health networks the provider participates in (codes).
    pub networks: Vec<String>,
}

impl Provider {
    /// A primary care provider can be assigned as a member's PCP.
    pub fn is_primary_care(&self) -> bool {
        self.kind == ProviderKind::Practitioner
            && PRIMARY_CARE_TAXONOMIES.contains(&self.taxonomy.code.as_str())
    }
}

/// NUCC taxonomies the plan treats as primary care (family, internal, pediatrics, general
/// practice, NP family / pediatrics).
pub const PRIMARY_CARE_TAXONOMIES: &[&str] = &[
    "207Q00000X",
    "207R00000X",
    "208000000X",
    "208D00000X",
    "363LF0000X",
    "363LP0200X",
];
