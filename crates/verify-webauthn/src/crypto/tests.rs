//! Every algorithm through every backend: keys generated in-test with the RustCrypto
//! signers, a known-answer case from the W3C vectors, bit flips, key/alg mismatches.

use ecdsa::signature::Signer as _;
use ecdsa::signature::hazmat::PrehashSigner as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

use super::*;

/// Under `ring` alone the `RustCrypto` backend type is not compiled, but its keys are
/// (the ring backend parses every key through them and verifies P-521 with them):
/// the same checks then call the keys directly, so this module compiles and runs
/// with either feature set.
#[cfg(not(feature = "rustcrypto"))]
struct RustCrypto;

#[cfg(not(feature = "rustcrypto"))]
impl RustCrypto {
    fn parse_key(
        algorithm: SignatureAlgorithm,
        material: &PublicKeyMaterial<'_>,
    ) -> Result<RustCryptoKey, CryptoError> {
        RustCryptoKey::parse(algorithm, material)
    }

    fn verify(key: &RustCryptoKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        key.verify(message, signature)
    }
}

/// One signed message: algorithm, key material (owned), message, signature.
struct Case {
    algorithm: SignatureAlgorithm,
    key: OwnedKey,
    message: Vec<u8>,
    signature: Vec<u8>,
}

#[derive(Clone)]
enum OwnedKey {
    Ec(EcCurve, Vec<u8>, Vec<u8>),
    Ed25519(Vec<u8>),
    Rsa(Vec<u8>, Vec<u8>),
}

impl OwnedKey {
    fn material(&self) -> PublicKeyMaterial<'_> {
        match self {
            Self::Ec(curve, x, y) => PublicKeyMaterial::Ec {
                curve: *curve,
                x,
                y,
            },
            Self::Ed25519(x) => PublicKeyMaterial::Ed25519 { x },
            Self::Rsa(n, e) => PublicKeyMaterial::Rsa { n, e },
        }
    }
}

fn for_each_backend(
    check: impl Fn(
        &str,
        &dyn Fn(SignatureAlgorithm, &PublicKeyMaterial<'_>, &[u8], &[u8]) -> Result<(), CryptoError>,
    ),
) {
    check("rustcrypto", &|alg, material, msg, sig| {
        let key = RustCrypto::parse_key(alg, material)?;
        RustCrypto::verify(&key, msg, sig)
    });
    #[cfg(feature = "ring")]
    check("ring", &|alg, material, msg, sig| {
        let key = Ring::parse_key(alg, material)?;
        Ring::verify(&key, msg, sig)
    });
}

fn ec_point(encoded: &[u8], curve: EcCurve) -> OwnedKey {
    let len = curve.coordinate_len();
    assert_eq!(encoded.len(), 1 + 2 * len);
    OwnedKey::Ec(
        curve,
        encoded[1..=len].to_vec(),
        encoded[1 + len..].to_vec(),
    )
}

fn ecdsa_cases() -> Vec<Case> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let message = b"authenticatorData || clientDataHash".to_vec();
    let mut cases = Vec::new();

    let k256 = p256::ecdsa::SigningKey::random(&mut rng);
    let point = k256.verifying_key().to_encoded_point(false);
    let sig: p256::ecdsa::Signature = k256.sign(&message);
    cases.push(Case {
        algorithm: SignatureAlgorithm::Es256,
        key: ec_point(point.as_bytes(), EcCurve::P256),
        message: message.clone(),
        signature: sig.to_der().as_bytes().to_vec(),
    });
    let digest = HashAlgorithm::Sha384.digest(&message);
    let sig: p256::ecdsa::Signature = k256.sign_prehash(&digest).unwrap();
    cases.push(Case {
        algorithm: SignatureAlgorithm::Es384P256,
        key: ec_point(point.as_bytes(), EcCurve::P256),
        message: message.clone(),
        signature: sig.to_der().as_bytes().to_vec(),
    });

    let k384 = p384::ecdsa::SigningKey::random(&mut rng);
    let point = k384.verifying_key().to_encoded_point(false);
    let sig: p384::ecdsa::Signature = k384.sign(&message);
    cases.push(Case {
        algorithm: SignatureAlgorithm::Es384,
        key: ec_point(point.as_bytes(), EcCurve::P384),
        message: message.clone(),
        signature: sig.to_der().as_bytes().to_vec(),
    });
    let digest = HashAlgorithm::Sha256.digest(&message);
    let sig: p384::ecdsa::Signature = k384.sign_prehash(&digest).unwrap();
    cases.push(Case {
        algorithm: SignatureAlgorithm::Es256P384,
        key: ec_point(point.as_bytes(), EcCurve::P384),
        message: message.clone(),
        signature: sig.to_der().as_bytes().to_vec(),
    });

    let k521 = p521::ecdsa::SigningKey::random(&mut rng);
    let point = p521::ecdsa::VerifyingKey::from(&k521).to_encoded_point(false);
    let sig: p521::ecdsa::Signature = k521.sign(&message);
    cases.push(Case {
        algorithm: SignatureAlgorithm::Es512,
        key: ec_point(point.as_bytes(), EcCurve::P521),
        message: message.clone(),
        signature: sig.to_der().as_bytes().to_vec(),
    });

    let ed = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let sig = ed.sign(&message);
    cases.push(Case {
        algorithm: SignatureAlgorithm::EdDsa,
        key: OwnedKey::Ed25519(ed.verifying_key().to_bytes().to_vec()),
        message,
        signature: sig.to_bytes().to_vec(),
    });
    cases
}

/// A 2048-bit RSA test key (generated with `openssl genrsa 2048`; test use only).
fn rsa_key() -> rsa::RsaPrivateKey {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    rsa::RsaPrivateKey::from_pkcs1_pem(include_str!("../../testdata/crypto/rsa2048.pem")).unwrap()
}

fn rsa_cases() -> Vec<Case> {
    use rsa::traits::PublicKeyParts as _;
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let private = rsa_key();
    let key = OwnedKey::Rsa(private.n().to_bytes_be(), private.e().to_bytes_be());
    let message = b"an RSA-signed message".to_vec();
    let mut cases = Vec::new();
    let mut push = |algorithm: SignatureAlgorithm, signature: Vec<u8>| {
        cases.push(Case {
            algorithm,
            key: key.clone(),
            message: message.clone(),
            signature,
        });
    };
    let d = |hash: HashAlgorithm| hash.digest(b"an RSA-signed message");
    push(
        SignatureAlgorithm::Rs256,
        private
            .sign(
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                &d(HashAlgorithm::Sha256),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Rs384,
        private
            .sign(
                rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                &d(HashAlgorithm::Sha384),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Rs512,
        private
            .sign(
                rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                &d(HashAlgorithm::Sha512),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Rs1,
        private
            .sign(
                rsa::Pkcs1v15Sign {
                    hash_len: Some(20),
                    prefix: vec![
                        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
                        0x00, 0x04, 0x14,
                    ]
                    .into(),
                },
                &d(HashAlgorithm::Sha1),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Ps256,
        private
            .sign_with_rng(
                &mut rng,
                rsa::Pss::new::<sha2::Sha256>(),
                &d(HashAlgorithm::Sha256),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Ps384,
        private
            .sign_with_rng(
                &mut rng,
                rsa::Pss::new::<sha2::Sha384>(),
                &d(HashAlgorithm::Sha384),
            )
            .unwrap(),
    );
    push(
        SignatureAlgorithm::Ps512,
        private
            .sign_with_rng(
                &mut rng,
                rsa::Pss::new::<sha2::Sha512>(),
                &d(HashAlgorithm::Sha512),
            )
            .unwrap(),
    );
    cases
}

fn check_cases(cases: &[Case]) {
    for_each_backend(|backend, verify| {
        for case in cases {
            let material = case.key.material();
            assert_eq!(
                verify(case.algorithm, &material, &case.message, &case.signature),
                Ok(()),
                "{backend}: {:?} must verify",
                case.algorithm
            );
            // Flip bits spread across the whole signature (a dozen keeps debug-build
            // RSA and P-521 runs short) and in the message: all must fail.
            let bits = case.signature.len() * 8;
            for bit in (0..bits).step_by((bits / 12).max(1)).chain([bits - 1]) {
                let mut sig = case.signature.clone();
                sig[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(
                    verify(case.algorithm, &material, &case.message, &sig),
                    Err(CryptoError::SignatureInvalid),
                    "{backend}: {:?} flipped signature bit {bit}",
                    case.algorithm
                );
            }
            let mut msg = case.message.clone();
            msg[0] ^= 0x80;
            assert_eq!(
                verify(case.algorithm, &material, &msg, &case.signature),
                Err(CryptoError::SignatureInvalid),
                "{backend}: {:?} altered message",
                case.algorithm
            );
            let mut truncated = case.signature.clone();
            truncated.pop();
            assert_eq!(
                verify(case.algorithm, &material, &case.message, &truncated),
                Err(CryptoError::SignatureInvalid),
                "{backend}: {:?} truncated signature",
                case.algorithm
            );
            assert_eq!(
                verify(case.algorithm, &material, &case.message, &[]),
                Err(CryptoError::SignatureInvalid),
                "{backend}: {:?} empty signature",
                case.algorithm
            );
        }
    });
}

#[test]
fn ecdsa_and_eddsa_sign_verify_and_bit_flips() {
    check_cases(&ecdsa_cases());
}

#[test]
fn rsa_pkcs1_and_pss_sign_verify_and_bit_flips() {
    check_cases(&rsa_cases());
}

#[test]
fn pss_salt_length_must_equal_hash_length() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    use rsa::traits::PublicKeyParts as _;
    let private = rsa_key();
    let (n, e) = (private.n().to_bytes_be(), private.e().to_bytes_be());
    let message = b"salt";
    let digest = HashAlgorithm::Sha256.digest(message);
    for salt in [0_usize, 20, 64] {
        let sig = private
            .sign_with_rng(
                &mut rng,
                rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
                &digest,
            )
            .unwrap();
        for_each_backend(|backend, verify| {
            assert_eq!(
                verify(
                    SignatureAlgorithm::Ps256,
                    &PublicKeyMaterial::Rsa { n: &n, e: &e },
                    message,
                    &sig
                ),
                Err(CryptoError::SignatureInvalid),
                "{backend}: salt length {salt}"
            );
        });
    }
}

#[test]
fn pkcs1_signature_is_not_accepted_as_pss_or_other_hash() {
    let cases = rsa_cases();
    let rs256 = cases
        .iter()
        .find(|c| c.algorithm == SignatureAlgorithm::Rs256)
        .unwrap();
    for_each_backend(|backend, verify| {
        for other in [
            SignatureAlgorithm::Ps256,
            SignatureAlgorithm::Rs384,
            SignatureAlgorithm::Rs1,
        ] {
            assert_eq!(
                verify(
                    other,
                    &rs256.key.material(),
                    &rs256.message,
                    &rs256.signature
                ),
                Err(CryptoError::SignatureInvalid),
                "{backend}: RS256 signature checked as {other:?}"
            );
        }
    });
}

/// W3C WebAuthn L3 §sctn-test-vectors-none-es256: the authentication signature over
/// authenticatorData || SHA-256(clientDataJSON) with the registered key.
#[test]
fn known_answer_w3c_none_es256_assertion() {
    let cose = hex::decode("a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220").unwrap();
    // a5 01 02 03 26 20 01 21 58 20 <x> 22 58 20 <y>
    let x = &cose[10..42];
    let y = &cose[45..77];
    let auth_data =
        hex::decode("bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b51900000000")
            .unwrap();
    let client_data = br#"{"type":"webauthn.get","challenge":"OcDnUhQXulTUPo3JUXT0I97pvzzYBP9tZchXyav01Ag","origin":"https://example.org","crossOrigin":false}"#;
    let signature = hex::decode("3046022100f50a4e2e4409249c4a853ba361282f09841df4dd4547a13a87780218deffcd380221008480ac0f0b93538174f575bf11a1dd5d78c6e486013f937295ea13653e331e87").unwrap();
    let mut message = auth_data;
    message.extend_from_slice(&HashAlgorithm::Sha256.digest(client_data));
    let material = PublicKeyMaterial::Ec {
        curve: EcCurve::P256,
        x,
        y,
    };
    for_each_backend(|backend, verify| {
        assert_eq!(
            verify(SignatureAlgorithm::Es256, &material, &message, &signature),
            Ok(()),
            "{backend}"
        );
        let mut tampered = message.clone();
        tampered[32] ^= 0x04; // the UV flag
        assert_eq!(
            verify(SignatureAlgorithm::Es256, &material, &tampered, &signature),
            Err(CryptoError::SignatureInvalid),
            "{backend}"
        );
    });
}

#[test]
fn key_type_must_match_algorithm() {
    let cases = ecdsa_cases();
    let p256 = &cases[0].key;
    let p384 = &cases[2].key;
    let ed = &cases[5].key;
    let rsa = OwnedKey::Rsa(vec![0xff; 256], vec![1, 0, 1]);
    let mismatches: [(SignatureAlgorithm, &OwnedKey); 8] = [
        (SignatureAlgorithm::Es256, p384),
        (SignatureAlgorithm::Es384, p256),
        (SignatureAlgorithm::Es512, p256),
        (SignatureAlgorithm::Es256, ed),
        (SignatureAlgorithm::EdDsa, p256),
        (SignatureAlgorithm::Rs256, p256),
        (SignatureAlgorithm::Es256, &rsa),
        (SignatureAlgorithm::EdDsa, &rsa),
    ];
    for (algorithm, key) in mismatches {
        assert_eq!(
            RustCrypto::parse_key(algorithm, &key.material()).map(|_| ()),
            Err(CryptoError::KeyAlgorithmMismatch { algorithm })
        );
        #[cfg(feature = "ring")]
        assert_eq!(
            Ring::parse_key(algorithm, &key.material()).map(|_| ()),
            Err(CryptoError::KeyAlgorithmMismatch { algorithm })
        );
    }
}

#[test]
fn malformed_keys_are_rejected() {
    let p256_x = [1_u8; 32];
    let mut small_modulus = vec![0xff_u8; 128]; // 1024 bits
    small_modulus[127] = 0xfb;
    let mut big_modulus = vec![0xff_u8; 1025]; // 8200 bits
    big_modulus[1024] = 0xfb;
    let mut even_modulus = vec![0xff_u8; 256];
    even_modulus[255] = 0xfe;
    let good_modulus = vec![0xff_u8; 256];
    let identity_ed25519 = {
        let mut x = [0_u8; 32];
        x[0] = 1;
        x
    };
    let bad: Vec<(SignatureAlgorithm, PublicKeyMaterial<'_>)> = vec![
        // Not on the curve.
        (
            SignatureAlgorithm::Es256,
            PublicKeyMaterial::Ec {
                curve: EcCurve::P256,
                x: &p256_x,
                y: &p256_x,
            },
        ),
        // Wrong coordinate length.
        (
            SignatureAlgorithm::Es256,
            PublicKeyMaterial::Ec {
                curve: EcCurve::P256,
                x: &p256_x[..31],
                y: &p256_x,
            },
        ),
        (
            SignatureAlgorithm::EdDsa,
            PublicKeyMaterial::Ed25519 {
                x: &identity_ed25519,
            },
        ),
        (
            SignatureAlgorithm::EdDsa,
            PublicKeyMaterial::Ed25519 { x: &[9; 31] },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &small_modulus,
                e: &[1, 0, 1],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &big_modulus,
                e: &[1, 0, 1],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &even_modulus,
                e: &[1, 0, 1],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &good_modulus,
                e: &[1, 0, 0],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &good_modulus,
                e: &[1],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa {
                n: &good_modulus,
                e: &[2, 0, 0, 0, 1],
            },
        ),
        (
            SignatureAlgorithm::Rs256,
            PublicKeyMaterial::Rsa { n: &[], e: &[3] },
        ),
    ];
    for (algorithm, material) in &bad {
        assert_eq!(
            RustCrypto::parse_key(*algorithm, material).map(|_| ()),
            Err(CryptoError::InvalidKey {
                algorithm: *algorithm
            }),
            "{material:?}"
        );
        #[cfg(feature = "ring")]
        assert_eq!(
            Ring::parse_key(*algorithm, material).map(|_| ()),
            Err(CryptoError::InvalidKey {
                algorithm: *algorithm
            }),
            "{material:?}"
        );
    }
    // The 2048-bit odd modulus with e = 65537 is acceptable.
    assert!(
        RustCrypto::parse_key(
            SignatureAlgorithm::Rs256,
            &PublicKeyMaterial::Rsa {
                n: &good_modulus,
                e: &[1, 0, 1]
            }
        )
        .is_ok()
    );
}

#[test]
fn ecdsa_high_s_is_accepted_by_both_backends() {
    // WebAuthn does not require low-S: authenticators emit either form.
    let cases = ecdsa_cases();
    let case = &cases[0];
    let sig = p256::ecdsa::Signature::from_der(&case.signature).unwrap();
    let (r, s) = sig.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    let der = high.to_der().as_bytes().to_vec();
    for_each_backend(|backend, verify| {
        assert_eq!(
            verify(case.algorithm, &case.key.material(), &case.message, &der),
            Ok(()),
            "{backend}"
        );
    });
}

#[test]
fn verifying_key_parses_once_and_verifies_many() {
    let cases = ecdsa_cases();
    let case = &cases[0];
    let key = VerifyingKey::new(case.algorithm, &case.key.material()).unwrap();
    assert_eq!(key.algorithm(), SignatureAlgorithm::Es256);
    for _ in 0..3 {
        assert_eq!(key.verify(&case.message, &case.signature), Ok(()));
    }
    assert_eq!(
        key.verify(b"other", &case.signature),
        Err(CryptoError::SignatureInvalid)
    );
}

#[test]
fn cose_identifiers_round_trip() {
    for id in [-7, -35, -36, -8, -257, -258, -259, -37, -38, -39, -65535] {
        let alg = SignatureAlgorithm::from_cose(id).unwrap();
        assert_eq!(alg.cose(), Some(id));
    }
    assert_eq!(SignatureAlgorithm::from_cose(-53), None); // Ed448
    assert_eq!(SignatureAlgorithm::Es256P384.cose(), None);
}
