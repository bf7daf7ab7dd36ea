//! Every route of the application with the access policy it needs: the one place to read who may
//! do what. The router is built only from [`table`], each handler wrapped in
//! [`crate::auth::guard`] with its policy, so a route cannot exist without one; the
//! authorization matrix test (`tests/matrix.rs`) walks [`policies`] against every role.

use crate::AppState;
use crate::pages::{
    account, alerts, audit_log, authorizations, claims, eligibility, eligibility_batch, home,
    login, lookup_audit, mfa, office, outbox, pa_public, register, submissions, um_review, users,
    verify,
};
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use domain::access::Permission;
use domain::session::SessionStage;

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not (the page may differ when signed in).
    Public,
    /// A session part-way through sign-in: password accepted, this step still to do.
    Stage(SessionStage),
    /// Any fully signed-in user (their own account, sign-out).
    SignedIn,
    /// A fully signed-in user the domain policy grants this permission.
    May(Permission),
    /// An EDI trading partner's machine: no cookie session and no CSRF token (not a browser
    /// route); the request authenticates itself (the CORE envelope's UserName/Password, checked
    /// by the handler) and is rate-limited per address.
    TradingPartner,
}

/// Requests limited per client address (on top of the per-account lockout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Password, one-time code and activation attempts.
    SignIn,
    /// Public registration requests.
    Register,
    /// EDI partners' machine requests (CORE envelopes): high, but bounded.
    Edi,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub policy: Policy,
    pub rate: Option<RateClass>,
    /// Largest request body accepted (default the portal's 6 MB body limit); a larger one gets 413.
    pub body_limit: usize,
    pub handler: MethodRouter<AppState>,
}

pub(crate) fn route(
    method: Method,
    path: &'static str,
    policy: Policy,
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        policy,
        rate: None,
        body_limit: crate::BODY_LIMIT,
        handler,
    }
}

/// A route taking uploads larger than the default body limit.
pub(crate) fn large(mut r: Route, bytes: usize) -> Route {
    r.body_limit = bytes;
    r
}

pub(crate) fn limited(mut r: Route, rate: RateClass) -> Route {
    r.rate = Some(rate);
    r
}

/// The application's routes. Add a route here, with its policy, and to the expectations of
/// `tests/matrix.rs`.
pub fn table() -> Vec<Route> {
    use Method as M;
    use Permission as P;
    use Policy::*;
    use RateClass::*;
    let mut all = vec![
        route(M::GET, "/", Public, get(home::home)),
        route(M::GET, "/healthz", Public, get(crate::health::healthz)),
        route(M::GET, "/assets/{file}", Public, get(crate::assets::asset)),
        // Sign-in, MFA, sign-out.
        route(M::GET, "/login", Public, get(login::form)),
        limited(
            route(M::POST, "/login", Public, post(login::submit)),
            SignIn,
        ),
        route(
            M::GET,
            "/login/code",
            Stage(SessionStage::NeedsCode),
            get(login::code_form),
        ),
        limited(
            route(
                M::POST,
                "/login/code",
                Stage(SessionStage::NeedsCode),
                post(login::code_submit),
            ),
            SignIn,
        ),
        route(
            M::GET,
            "/mfa/enrol",
            Stage(SessionStage::NeedsEnrolment),
            get(mfa::enrol_form),
        ),
        limited(
            route(
                M::POST,
                "/mfa/enrol",
                Stage(SessionStage::NeedsEnrolment),
                post(mfa::enrol_submit),
            ),
            SignIn,
        ),
        route(M::POST, "/logout", Public, post(login::logout)),
        route(
            M::POST,
            "/session/keepalive",
            SignedIn,
            post(login::keepalive),
        ),
        // Registration and activation (public).
        route(M::GET, "/register", Public, get(register::form)),
        limited(
            route(M::POST, "/register", Public, post(register::submit)),
            Register,
        ),
        route(
            M::GET,
            "/activate/{token}",
            Public,
            get(register::activate_form),
        ),
        limited(
            route(
                M::POST,
                "/activate/{token}",
                Public,
                post(register::activate_submit),
            ),
            SignIn,
        ),
        // The signed-in user's own account.
        route(M::GET, "/account", SignedIn, get(account::page)),
        route(
            M::POST,
            "/account/password",
            SignedIn,
            post(account::change_password),
        ),
        route(
            M::POST,
            "/account/recovery-codes",
            SignedIn,
            post(account::new_recovery_codes),
        ),
        route(
            M::POST,
            "/account/sessions/end-others",
            SignedIn,
            post(account::end_other_sessions),
        ),
        route(
            M::GET,
            "/account/claims-access",
            May(P::RequestEntitlements),
            get(account::claims_form),
        ),
        route(
            M::POST,
            "/account/claims-access",
            May(P::RequestEntitlements),
            post(account::claims_submit),
        ),
        route(
            M::GET,
            "/account/tins",
            May(P::RequestTins),
            get(account::tin_form),
        ),
        route(
            M::POST,
            "/account/tins",
            May(P::RequestTins),
            post(account::tin_submit),
        ),
        // Claims (the separate entitlement).
        route(M::GET, "/claims", May(P::ViewClaims), get(claims::list)),
        route(
            M::GET,
            "/claims/{number}",
            May(P::ViewClaims),
            get(claims::detail),
        ),
        // Eligibility (PHI criteria: POST only), batch eligibility, clinical alerts.
        route(
            M::GET,
            "/eligibility",
            May(P::CheckEligibility),
            get(eligibility::form),
        ),
        route(
            M::POST,
            "/eligibility",
            May(P::CheckEligibility),
            post(eligibility::search),
        ),
        route(
            M::GET,
            "/eligibility/batch",
            May(P::CheckEligibility),
            get(eligibility_batch::batch_form),
        ),
        route(
            M::POST,
            "/eligibility/batch",
            May(P::CheckEligibility),
            post(eligibility_batch::batch_submit),
        ),
        route(
            M::GET,
            "/eligibility/batch/{batch}",
            May(P::CheckEligibility),
            get(eligibility_batch::batch_download),
        ),
        route(
            M::GET,
            "/alerts",
            May(P::CheckEligibility),
            get(alerts::dashboard),
        ),
        // Claim submission (837 upload) and the office's submission history.
        route(
            M::GET,
            "/submissions",
            May(P::SubmitClaims),
            get(submissions::page),
        ),
        large(
            route(
                M::POST,
                "/submissions",
                May(P::SubmitClaims),
                post(submissions::upload),
            ),
            submissions::BODY_LIMIT,
        ),
        route(
            M::GET,
            "/submissions/{id}",
            May(P::SubmitClaims),
            get(submissions::detail),
        ),
        route(
            M::GET,
            "/submissions/{id}/{ack}",
            May(P::SubmitClaims),
            get(submissions::download),
        ),
        // Claim status search: a POST so member IDs and dates of service stay out of URLs.
        route(M::POST, "/claims", May(P::ViewClaims), post(claims::search)),
        // Office administrators: their own office's users.
        route(
            M::GET,
            "/office/users",
            May(P::ManageOfficeUsers),
            get(office::users),
        ),
        route(
            M::POST,
            "/office/users/{id}/status",
            May(P::ManageOfficeUsers),
            post(office::set_status),
        ),
        route(
            M::POST,
            "/office/users/{id}/claims",
            May(P::ManageOfficeUsers),
            post(office::set_claims),
        ),
        route(
            M::POST,
            "/office/requests/{id}/decide",
            May(P::ManageOfficeUsers),
            post(office::decide_request),
        ),
        // Plan provider relations: the verification queue.
        route(
            M::GET,
            "/plan/registrations",
            May(P::ReviewRegistrations),
            get(verify::queue),
        ),
        route(
            M::GET,
            "/plan/registrations/{id}",
            May(P::ReviewRegistrations),
            get(verify::detail),
        ),
        route(
            M::POST,
            "/plan/registrations/{id}/decide",
            May(P::ReviewRegistrations),
            post(verify::decide_handler),
        ),
        route(
            M::POST,
            "/plan/registrations/{id}/proof",
            May(P::ReviewRegistrations),
            post(verify::upload_proof),
        ),
        route(
            M::GET,
            "/plan/registrations/{id}/proof/{doc}",
            May(P::ReviewRegistrations),
            get(verify::proof),
        ),
        route(
            M::GET,
            "/plan/outbox",
            May(P::ViewOutbox),
            get(outbox::page),
        ),
        // Plan administrators: accounts and the audit trail.
        route(
            M::GET,
            "/plan/users",
            May(P::ManageAccounts),
            get(users::search),
        ),
        route(
            M::POST,
            "/plan/users/{id}/reset-mfa",
            May(P::ManageAccounts),
            post(users::reset_mfa),
        ),
        route(
            M::POST,
            "/plan/users/{id}/unlock",
            May(P::ManageAccounts),
            post(users::unlock),
        ),
        route(
            M::POST,
            "/plan/users/{id}/status",
            May(P::ManageAccounts),
            post(users::set_status),
        ),
        route(
            M::GET,
            "/plan/audit",
            May(P::ViewAuditLog),
            get(audit_log::search),
        ),
        route(
            M::GET,
            "/plan/audit/export",
            May(P::ViewAuditLog),
            get(audit_log::export),
        ),
        // Eligibility lookups per office: misses, ratio, abnormal offices.
        route(
            M::GET,
            "/plan/audit/eligibility",
            May(P::ViewAuditLog),
            get(lookup_audit::page),
        ),
        // Referrals and prior authorizations: office submission and status, the plan's review
        // queue and rules, the public lookup and CMS-0057-F metrics.
        route(
            M::GET,
            "/prior-authorization/required",
            Public,
            get(pa_public::required),
        ),
        route(
            M::GET,
            "/prior-authorization/metrics",
            Public,
            get(pa_public::metrics),
        ),
        route(
            M::GET,
            "/prior-authorization/metrics.csv",
            Public,
            get(pa_public::metrics_csv),
        ),
        route(
            M::GET,
            "/authorizations",
            May(P::ViewAuthorizations),
            get(authorizations::list),
        ),
        route(
            M::GET,
            "/authorizations/new",
            May(P::SubmitAuthorization),
            get(authorizations::new_form),
        ),
        route(
            M::POST,
            "/authorizations",
            May(P::SubmitAuthorization),
            post(authorizations::submit),
        ),
        route(
            M::GET,
            "/authorizations/{number}",
            May(P::ViewAuthorizations),
            get(authorizations::detail),
        ),
        route(
            M::POST,
            "/authorizations/{number}/withdraw",
            May(P::SubmitAuthorization),
            post(authorizations::withdraw),
        ),
        route(
            M::POST,
            "/authorizations/{number}/information",
            May(P::SubmitAuthorization),
            post(authorizations::information),
        ),
        route(
            M::GET,
            "/authorizations/{number}/attachments/{doc}",
            May(P::ViewAuthorizations),
            get(authorizations::attachment),
        ),
        route(
            M::GET,
            "/notifications",
            May(P::ViewAuthorizations),
            get(authorizations::notifications),
        ),
        route(
            M::GET,
            "/plan/authorizations",
            May(P::ReviewAuthorizations),
            get(um_review::queue),
        ),
        route(
            M::GET,
            "/plan/authorizations/{number}",
            May(P::ReviewAuthorizations),
            get(um_review::case),
        ),
        route(
            M::POST,
            "/plan/authorizations/{number}/take",
            May(P::ReviewAuthorizations),
            post(um_review::take),
        ),
        route(
            M::POST,
            "/plan/authorizations/{number}/decide",
            May(P::ReviewAuthorizations),
            post(um_review::decide),
        ),
        route(
            M::POST,
            "/plan/authorizations/{number}/pend",
            May(P::ReviewAuthorizations),
            post(um_review::pend),
        ),
        route(
            M::POST,
            "/plan/authorizations/{number}/appeal",
            May(P::ReviewAuthorizations),
            post(um_review::appeal),
        ),
        route(
            M::GET,
            "/plan/authorizations/{number}/attachments/{doc}",
            May(P::ReviewAuthorizations),
            get(um_review::attachment),
        ),
        route(
            M::GET,
            "/plan/auth-rules",
            May(P::ManageAuthRules),
            get(um_review::rules),
        ),
        route(
            M::POST,
            "/plan/auth-rules",
            May(P::ManageAuthRules),
            post(um_review::add_rule),
        ),
        route(
            M::POST,
            "/plan/auth-rules/{id}/delete",
            May(P::ManageAuthRules),
            post(um_review::delete_rule),
        ),
        route(
            M::POST,
            "/plan/auto-rules",
            May(P::ManageAuthRules),
            post(um_review::add_auto_rule),
        ),
        route(
            M::POST,
            "/plan/auto-rules/{id}/delete",
            May(P::ManageAuthRules),
            post(um_review::delete_auto_rule),
        ),
        // ----- CAQH CORE connectivity (EDI trading partners; the envelope authenticates) -----
        limited(
            route(M::POST, "/core", TradingPartner, post(crate::caqh::any)),
            Edi,
        ),
        limited(
            route(
                M::POST,
                "/core/realtime",
                TradingPartner,
                post(crate::caqh::realtime),
            ),
            Edi,
        ),
        limited(
            route(
                M::POST,
                "/core/batch",
                TradingPartner,
                post(crate::caqh::batch),
            ),
            Edi,
        ),
    ];
    // The areas in their own folders (`crate::areas`), each with its policies.
    all.extend(crate::areas::routes());
    all
}

/// `(method, path, policy, rate)` of every route, for tests and the documentation.
pub fn policies() -> Vec<(Method, &'static str, Policy, Option<RateClass>)> {
    table()
        .into_iter()
        .map(|r| (r.method, r.path, r.policy, r.rate))
        .collect()
}
