//! Prints verify-webauthn's options JSON for a browser check (`tests/browser/options.mjs`).
//!
//! ```text
//! cargo run -q -p verify-webauthn --example options_json -- http://localhost:<port>
//! ```
//!
//! Writes one JSON object to stdout: `creation` (from `start_registration`, with one
//! existing credential so `excludeCredentials` is non-empty), `request` (from
//! `start_authentication` for that user, so `allowCredentials` lists the existing
//! credential), `usernameless` (no `allowCredentials`), and the inputs the browser
//! script needs (`existing_credential_id`, `user_handle`, base64url). The RP ID is
//! `localhost`; the origin is argv\[1\]. The RNG is seeded from the OS (this is an
//! example binary, not library code).

use std::error::Error;
use std::io::Read as _;
use std::time::{SystemTime, UNIX_EPOCH};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use verify_model::UnixTime;
use verify_webauthn::authentication::start_authentication;
use verify_webauthn::base64url;
use verify_webauthn::registration::start_registration;
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{CredentialDescriptor, UserEntity};

fn main() -> Result<(), Box<dyn Error>> {
    let origin = std::env::args()
        .nth(1)
        .ok_or("usage: options_json <origin, e.g. http://localhost:8080>")?;

    let mut seed = [0_u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    #[expect(
        clippy::disallowed_methods,
        reason = "an example binary is the host: it reads the clock and hands `now` to the library"
    )]
    let wall = SystemTime::now();
    let now = UnixTime::from_secs(wall.duration_since(UNIX_EPOCH)?.as_secs());

    let rp = RelyingParty::new("localhost", "verify-webauthn options check", vec![origin])?;

    let mut user_handle = [0_u8; 32];
    rand_core::RngCore::fill_bytes(&mut rng, &mut user_handle);
    let user = UserEntity::new(user_handle.to_vec(), "alice@example.com", "Alice");

    let mut existing_id = [0_u8; 32];
    rand_core::RngCore::fill_bytes(&mut rng, &mut existing_id);
    let existing = [CredentialDescriptor::new(
        existing_id.to_vec(),
        vec!["usb".to_owned(), "internal".to_owned()],
    )];

    let (creation, _registration_state) = start_registration(&rp, &user, &existing, now, &mut rng)?;
    let (request, _authentication_state) =
        start_authentication(&rp, Some((&user_handle, &existing)), now, &mut rng);
    let (usernameless, _usernameless_state) = start_authentication(&rp, None, now, &mut rng);

    let out = serde_json::json!({
        "creation": creation,
        "request": request,
        "usernameless": usernameless,
        "existing_credential_id": base64url::encode(&existing_id),
        "user_handle": base64url::encode(&user_handle),
    });
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
