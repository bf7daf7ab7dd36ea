-- Second-factor guesses counted on their own, apart from password failures: the times (unix
-- seconds, comma-separated) of the account's recent one-time, recovery and step-up code
-- guesses, each claimed before the code is checked (`lockout.rs`).
ALTER TABLE users ADD COLUMN code_guesses TEXT NOT NULL DEFAULT '';
