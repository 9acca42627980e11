//! Bare signature verification per algorithm (ES256, ES384, EdDSA, RS256 and PS256
//! with a 2048-bit key), on both verify-webauthn backends, beside the raw crate call
//! with no verify code in between.
//!
//! One group per algorithm, one key and one signature per group, message of 69
//! bytes (the size WebAuthn signs: 37 bytes of authenticator data and a 32-byte
//! client data hash). Members:
//! - `VerifyingKey (default backend)`: the type every verify path uses; in this
//!   package both backends are compiled in, so the default is ring.
//! - `RustCrypto backend` / `ring backend`: `Backend::verify` on each, by name.
//! - `raw RustCrypto` / `raw ring`: the crates' own calls (p256/p384/ed25519-dalek/rsa,
//!   ring), parsing the same signature bytes, so "backend / raw" is the cost of
//!   verify's trait layer.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    reason = "a benchmark binary: criterion's macros generate undocumented items, and a setup failure should abort"
)]

use std::hint::black_box;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use ring::signature as rs;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Digest as _;
use signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _, Verifier as _};
use verify_webauthn::crypto::{
    Backend, EcCurve, PublicKeyMaterial, Ring, RustCrypto, SignatureAlgorithm, VerifyingKey,
};

const RSA_PEM: &str = include_str!("../testdata/rsa2048.pem");

/// 37 bytes of authenticator data and a 32-byte hash, as WebAuthn signs.
fn message() -> Vec<u8> {
    let mut message = sha2::Sha256::digest(b"example.org").to_vec();
    message.extend_from_slice(&[0x05, 0, 0, 0, 7]);
    message.extend_from_slice(&sha2::Sha256::digest(b"client data"));
    message
}

/// The three verify-webauthn layers for one key: default `VerifyingKey`, each backend.
fn bench_backends(
    group: &mut BenchmarkGroup<'_, WallTime>,
    algorithm: SignatureAlgorithm,
    material: &PublicKeyMaterial<'_>,
    message: &[u8],
    signature: &[u8],
) {
    let key = VerifyingKey::new(algorithm, material).unwrap();
    key.verify(message, signature).unwrap();
    group.bench_function("VerifyingKey (default backend = ring)", |b| {
        b.iter(|| key.verify(black_box(message), black_box(signature)).is_ok());
    });
    let rustcrypto = RustCrypto::parse_key(algorithm, material).unwrap();
    RustCrypto::verify(&rustcrypto, message, signature).unwrap();
    group.bench_function("RustCrypto backend", |b| {
        b.iter(|| {
            RustCrypto::verify(&rustcrypto, black_box(message), black_box(signature)).is_ok()
        });
    });
    let ring_key = Ring::parse_key(algorithm, material).unwrap();
    Ring::verify(&ring_key, message, signature).unwrap();
    group.bench_function("ring backend", |b| {
        b.iter(|| Ring::verify(&ring_key, black_box(message), black_box(signature)).is_ok());
    });
}

fn bench_es256(c: &mut Criterion, message: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let signing = p256::ecdsa::SigningKey::random(&mut rng);
    let signature: p256::ecdsa::DerSignature = signing.sign(message);
    let signature = signature.to_vec();
    let point = signing.verifying_key().to_encoded_point(false);
    let material = PublicKeyMaterial::Ec {
        curve: EcCurve::P256,
        x: point.x().unwrap(),
        y: point.y().unwrap(),
    };
    let mut group = c.benchmark_group("signatures/ES256");
    bench_backends(
        &mut group,
        SignatureAlgorithm::Es256,
        &material,
        message,
        &signature,
    );
    let raw = *signing.verifying_key();
    group.bench_function("raw RustCrypto (p256)", |b| {
        b.iter(|| {
            p256::ecdsa::DerSignature::try_from(black_box(signature.as_slice()))
                .and_then(|sig| raw.verify(black_box(message), &sig))
                .is_ok()
        });
    });
    let sec1 = point.as_bytes().to_vec();
    group.bench_function("raw ring", |b| {
        b.iter(|| {
            rs::UnparsedPublicKey::new(&rs::ECDSA_P256_SHA256_ASN1, &sec1)
                .verify(black_box(message), black_box(&signature))
                .is_ok()
        });
    });
    group.finish();
}

fn bench_es384(c: &mut Criterion, message: &[u8]) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let signing = p384::ecdsa::SigningKey::random(&mut rng);
    let signature: p384::ecdsa::DerSignature = signing.sign(message);
    let signature = signature.to_vec();
    let point = signing.verifying_key().to_encoded_point(false);
    let material = PublicKeyMaterial::Ec {
        curve: EcCurve::P384,
        x: point.x().unwrap(),
        y: point.y().unwrap(),
    };
    let mut group = c.benchmark_group("signatures/ES384");
    bench_backends(
        &mut group,
        SignatureAlgorithm::Es384,
        &material,
        message,
        &signature,
    );
    let raw = *signing.verifying_key();
    group.bench_function("raw RustCrypto (p384)", |b| {
        b.iter(|| {
            p384::ecdsa::DerSignature::try_from(black_box(signature.as_slice()))
                .and_then(|sig| raw.verify(black_box(message), &sig))
                .is_ok()
        });
    });
    let sec1 = point.as_bytes().to_vec();
    group.bench_function("raw ring", |b| {
        b.iter(|| {
            rs::UnparsedPublicKey::new(&rs::ECDSA_P384_SHA384_ASN1, &sec1)
                .verify(black_box(message), black_box(&signature))
                .is_ok()
        });
    });
    group.finish();
}

fn bench_eddsa(c: &mut Criterion, message: &[u8]) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let signature = signing.sign(message).to_bytes().to_vec();
    let public = signing.verifying_key().to_bytes();
    let material = PublicKeyMaterial::Ed25519 { x: &public };
    let mut group = c.benchmark_group("signatures/EdDSA");
    bench_backends(
        &mut group,
        SignatureAlgorithm::EdDsa,
        &material,
        message,
        &signature,
    );
    let raw = signing.verifying_key();
    group.bench_function("raw RustCrypto (ed25519-dalek verify_strict)", |b| {
        b.iter(|| {
            ed25519_dalek::Signature::from_slice(black_box(&signature))
                .and_then(|sig| raw.verify_strict(black_box(message), &sig))
                .is_ok()
        });
    });
    group.bench_function("raw ring", |b| {
        b.iter(|| {
            rs::UnparsedPublicKey::new(&rs::ED25519, &public)
                .verify(black_box(message), black_box(&signature))
                .is_ok()
        });
    });
    group.finish();
}

fn bench_rsa(c: &mut Criterion, message: &[u8]) {
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_PEM).unwrap();
    let public = private.to_public_key();
    let (n, e) = (public.n().to_bytes_be(), public.e().to_bytes_be());
    let material = PublicKeyMaterial::Rsa { n: &n, e: &e };
    let digest = sha2::Sha256::digest(message);

    let pkcs1 = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private.clone());
    let signature = pkcs1.sign(message).to_vec();
    let mut group = c.benchmark_group("signatures/RS256 (2048)");
    bench_backends(
        &mut group,
        SignatureAlgorithm::Rs256,
        &material,
        message,
        &signature,
    );
    group.bench_function("raw RustCrypto (rsa)", |b| {
        b.iter(|| {
            let digest = sha2::Sha256::digest(black_box(message));
            public
                .verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    &digest,
                    black_box(&signature),
                )
                .is_ok()
        });
    });
    group.bench_function("raw ring", |b| {
        b.iter(|| {
            rs::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &rs::RSA_PKCS1_2048_8192_SHA256,
                    black_box(message),
                    black_box(&signature),
                )
                .is_ok()
        });
    });
    group.finish();

    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let pss = rsa::pss::SigningKey::<sha2::Sha256>::new(private);
    let signature = pss.sign_with_rng(&mut rng, message).to_vec();
    assert!(
        public
            .verify(rsa::Pss::new::<sha2::Sha256>(), &digest, &signature)
            .is_ok()
    );
    let mut group = c.benchmark_group("signatures/PS256 (2048)");
    bench_backends(
        &mut group,
        SignatureAlgorithm::Ps256,
        &material,
        message,
        &signature,
    );
    group.bench_function("raw RustCrypto (rsa)", |b| {
        b.iter(|| {
            let digest = sha2::Sha256::digest(black_box(message));
            public
                .verify(
                    rsa::Pss::new::<sha2::Sha256>(),
                    &digest,
                    black_box(&signature),
                )
                .is_ok()
        });
    });
    group.bench_function("raw ring", |b| {
        b.iter(|| {
            rs::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &rs::RSA_PSS_2048_8192_SHA256,
                    black_box(message),
                    black_box(&signature),
                )
                .is_ok()
        });
    });
    group.finish();
}

fn bench_signatures(c: &mut Criterion) {
    let message = message();
    bench_es256(c, &message);
    bench_es384(c, &message);
    bench_eddsa(c, &message);
    bench_rsa(c, &message);
}

criterion_group!(benches, bench_signatures);
criterion_main!(benches);
