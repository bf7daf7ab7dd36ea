//! Real-world reference tables the generator draws from: Orange County places, NUCC taxonomies,
//! languages, CPT/HCPCS codes with a fee schedule, ICD-10-CM codes, and names. Synthetic people,
//! real codes.

/// (city, ZIP, latitude, longitude) of Orange County, California cities.
pub const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Anaheim", "92805", 33.8366, -117.9143),
    ("Santa Ana", "92701", 33.7455, -117.8677),
    ("Irvine", "92618", 33.6846, -117.8265),
    ("Huntington Beach", "92648", 33.6595, -117.9988),
    ("Garden Grove", "92840", 33.7743, -117.9380),
    ("Orange", "92868", 33.7879, -117.8531),
    ("Fullerton", "92832", 33.8704, -117.9242),
    ("Costa Mesa", "92626", 33.6411, -117.9187),
    ("Mission Viejo", "92691", 33.6000, -117.6720),
    ("Westminster", "92683", 33.7513, -117.9940),
    ("Newport Beach", "92660", 33.6189, -117.9298),
    ("Buena Park", "90620", 33.8675, -117.9981),
    ("Tustin", "92780", 33.7458, -117.8262),
    ("Laguna Niguel", "92677", 33.5225, -117.7076),
    ("Lake Forest", "92630", 33.6470, -117.6892),
    ("San Clemente", "92672", 33.4270, -117.6120),
    ("Fountain Valley", "92708", 33.7092, -117.9537),
    ("Yorba Linda", "92886", 33.8886, -117.8131),
    ("Placentia", "92870", 33.8722, -117.8703),
    ("Cypress", "90630", 33.8170, -118.0373),
    ("Stanton", "90680", 33.8025, -117.9931),
    ("La Habra", "90631", 33.9319, -117.9462),
];

pub const STREETS: &[&str] = &[
    "Main St",
    "Harbor Blvd",
    "Beach Blvd",
    "Brookhurst St",
    "Euclid St",
    "Bristol St",
    "Katella Ave",
    "Chapman Ave",
    "Westminster Ave",
    "Edinger Ave",
    "Warner Ave",
    "Magnolia St",
    "Jeffrey Rd",
    "Culver Dr",
    "Alton Pkwy",
    "La Palma Ave",
    "Imperial Hwy",
    "Tustin St",
    "Crown Valley Pkwy",
    "El Toro Rd",
];

/// (NUCC taxonomy code, specialty, weight among practitioners, primary care?)
pub const PRACTITIONER_TAXONOMIES: &[(&str, &str, u32)] = &[
    ("207Q00000X", "Family Medicine", 22),
    ("207R00000X", "Internal Medicine", 18),
    ("208000000X", "Pediatrics", 12),
    ("363LF0000X", "Nurse Practitioner, Family", 6),
    ("207V00000X", "Obstetrics & Gynecology", 6),
    ("207RC0000X", "Cardiovascular Disease", 4),
    ("207RE0101X", "Endocrinology, Diabetes & Metabolism", 3),
    ("207X00000X", "Orthopaedic Surgery", 4),
    ("207N00000X", "Dermatology", 3),
    ("2084P0800X", "Psychiatry", 4),
    ("207W00000X", "Ophthalmology", 3),
    ("207Y00000X", "Otolaryngology", 2),
    ("208600000X", "Surgery", 3),
    ("207RG0100X", "Gastroenterology", 2),
    ("207RN0300X", "Nephrology", 2),
    ("2084N0400X", "Neurology", 2),
    ("2085R0202X", "Diagnostic Radiology", 2),
    ("152W00000X", "Optometrist", 2),
];

pub const GROUP_TAXONOMY: (&str, &str) = ("193200000X", "Multi-Specialty Group");
pub const CLINIC_TAXONOMY: (&str, &str) = ("261QP2300X", "Primary Care Clinic");
pub const HOSPITAL_TAXONOMY: (&str, &str) = ("282N00000X", "General Acute Care Hospital");
pub const PHARMACY_TAXONOMY: (&str, &str) = ("3336C0003X", "Community/Retail Pharmacy");

pub const CREDENTIALS: &[&str] = &["MD", "MD", "MD", "DO"];

/// ISO 639-1 codes of languages other than English offered by offices, weighted roughly like
/// Orange County's threshold languages.
pub const LANGUAGES: &[(&str, u32)] = &[
    ("es", 40),
    ("vi", 18),
    ("ko", 8),
    ("zh", 7),
    ("fa", 5),
    ("ar", 4),
    ("tl", 4),
    ("ru", 2),
];

/// (CPT/HCPCS, description, plan fee in cents, needs prior authorization)
pub const PROCEDURES: &[(&str, &str, i64, bool)] = &[
    (
        "99213",
        "Office visit, established patient, low complexity",
        9_200,
        false,
    ),
    (
        "99214",
        "Office visit, established patient, moderate complexity",
        13_000,
        false,
    ),
    (
        "99203",
        "Office visit, new patient, low complexity",
        11_000,
        false,
    ),
    (
        "99204",
        "Office visit, new patient, moderate complexity",
        16_500,
        false,
    ),
    ("99395", "Preventive visit, 18-39 years", 12_500, false),
    ("99396", "Preventive visit, 40-64 years", 13_500, false),
    (
        "99392",
        "Preventive visit, 1-4 years (well child)",
        11_000,
        false,
    ),
    (
        "99393",
        "Preventive visit, 5-11 years (well child)",
        10_800,
        false,
    ),
    ("G0439", "Annual wellness visit, subsequent", 11_800, false),
    ("90715", "Tdap vaccine", 3_400, false),
    ("36415", "Venipuncture", 300, false),
    ("83036", "Hemoglobin A1c", 1_300, false),
    ("80053", "Comprehensive metabolic panel", 1_100, false),
    (
        "85025",
        "Complete blood count with differential",
        800,
        false,
    ),
    ("80061", "Lipid panel", 1_400, false),
    ("77067", "Screening mammography, bilateral", 13_800, false),
    ("71046", "Chest X-ray, 2 views", 2_900, false),
    (
        "93000",
        "Electrocardiogram with interpretation",
        1_700,
        false,
    ),
    (
        "97110",
        "Therapeutic exercise, each 15 minutes",
        2_900,
        true,
    ),
    (
        "73721",
        "MRI lower extremity joint without contrast",
        22_000,
        true,
    ),
    ("70553", "MRI brain without and with contrast", 36_000, true),
    ("45378", "Colonoscopy, diagnostic", 38_000, false),
    ("E0601", "CPAP device", 9_000, true),
    ("K0001", "Standard wheelchair", 12_000, true),
];

/// (ICD-10-CM without the dot, description)
pub const DIAGNOSES: &[(&str, &str)] = &[
    ("E119", "Type 2 diabetes mellitus without complications"),
    ("I10", "Essential (primary) hypertension"),
    ("E785", "Hyperlipidemia, unspecified"),
    ("J069", "Acute upper respiratory infection, unspecified"),
    (
        "Z0000",
        "General adult medical examination without abnormal findings",
    ),
    (
        "Z00129",
        "Routine child health examination without abnormal findings",
    ),
    ("M545", "Low back pain"),
    (
        "F329",
        "Major depressive disorder, single episode, unspecified",
    ),
    ("J45909", "Unspecified asthma, uncomplicated"),
    ("N390", "Urinary tract infection, site not specified"),
    (
        "K219",
        "Gastro-esophageal reflux disease without esophagitis",
    ),
    ("Z1231", "Encounter for screening mammogram"),
    ("E6601", "Morbid obesity due to excess calories"),
    ("M1711", "Unilateral primary osteoarthritis, right knee"),
    ("G4733", "Obstructive sleep apnea"),
];

pub const FIRST_NAMES_F: &[&str] = &[
    "Maria",
    "Guadalupe",
    "Sofia",
    "Linh",
    "Mai",
    "Ji-woo",
    "Emily",
    "Jessica",
    "Ana",
    "Thuy",
    "Yesenia",
    "Hana",
    "Fatima",
    "Leila",
    "Rosa",
    "Olivia",
    "Camila",
    "Ngoc",
    "Grace",
    "Isabella",
];
pub const FIRST_NAMES_M: &[&str] = &[
    "Jose", "Juan", "Luis", "Minh", "Tuan", "Min-jun", "Michael", "David", "Carlos", "Hung",
    "Daniel", "Omar", "Ali", "Anthony", "Miguel", "Kevin", "Ethan", "Duc", "James", "Mateo",
];
pub const LAST_NAMES: &[&str] = &[
    "Garcia",
    "Hernandez",
    "Martinez",
    "Lopez",
    "Gonzalez",
    "Rodriguez",
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Kim",
    "Lee",
    "Park",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Hoang",
    "Vo",
    "Chen",
    "Wang",
    "Ahmadi",
    "Haddad",
    "Cruz",
    "Reyes",
    "Morales",
    "Davis",
    "Miller",
    "Wilson",
    "Anderson",
    "Huynh",
    "Dang",
    "Choi",
    "Jung",
    "Sanchez",
    "Castillo",
];

/// (name, kind) of the organisations in the directory besides practitioners.
pub const HOSPITALS: &[&str] = &[
    "Harbor View Medical Center",
    "Saddleback Valley Hospital",
    "Santa Ana Community Hospital",
    "Coastline Regional Medical Center",
    "North Orange County Hospital",
    "Children's Hospital of the Coast",
];
pub const PHARMACIES: &[&str] = &[
    "Main Street Pharmacy",
    "Bolsa Pharmacy",
    "Family Rx",
    "Harbor Drug",
    "Westside Apothecary",
    "CarePlus Pharmacy",
];
