-- Requests stored before the review workflow (0006) got its default line of business: take the
-- one of the member's eligibility span on the first date of service, which the decision clock
-- depends on (Medi-Cal's 5 working days). Their stored deadlines are then recomputed by the
-- domain clock when the store opens (`auths::backfill_deadlines`), never in SQL.
UPDATE auth_requests SET line_of_business = COALESCE(
    (SELECT s.line_of_business FROM eligibility_spans s
      WHERE s.member_id = auth_requests.member_id
        AND s.start_date <= auth_requests.from_date
        AND (s.end_date IS NULL OR s.end_date >= auth_requests.from_date)
      LIMIT 1),
    line_of_business)
WHERE due_at < '1971-01-01';
