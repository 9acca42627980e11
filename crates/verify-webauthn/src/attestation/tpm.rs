//! The `tpm` attestation statement format (WebAuthn L3 §8.3), with the TPM 2.0
//! structures `TPMT_PUBLIC` (`pubArea`) and `TPMS_ATTEST` (`certInfo`) parsed by hand:
//! big-endian, every length bounded by its input, trailing bytes rejected.
//!
//! Checks: `ver == "2.0"`; `pubArea`'s parameters and unique field are the credential
//! public key; `certInfo.magic == TPM_GENERATED_VALUE`, `type == TPM_ST_ATTEST_CERTIFY`,
//! `extraData == H_alg(authData || clientDataHash)`, `attested.name == nameAlg ||
//! H_nameAlg(pubArea)` (SHA-1, SHA-256, SHA-384, SHA-512); `sig` verifies over
//! `certInfo` with the AIK certificate's key under `alg`; the AIK certificate is
//! version 3 with an empty subject, a critical subjectAltName naming the TPM
//! manufacturer (a TCG vendor id, see `TCG_VENDOR_IDS`), model and version, EKU `tcg-kp-AIKCertificate` (2.23.133.8.3), not a
//! CA, and a non-critical AAGUID extension equal to authData's when present. The type
//! is [`AttestationType::AttCa`]. ECDAA is not supported (it was removed in Level 3).

use const_oid::ObjectIdentifier;
use der::Decode as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq as _;
use x509_cert::ext::pkix::name::GeneralName;

use super::statement::{self, Statement};
use super::x509::{self, Cert};
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};
use crate::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm};

const FORMAT: AttestationFormat = AttestationFormat::Tpm;

const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;
const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_SHA1: u16 = 0x0004;
const TPM_ALG_SHA256: u16 = 0x000b;
const TPM_ALG_SHA384: u16 = 0x000c;
const TPM_ALG_SHA512: u16 = 0x000d;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ECC_NIST_P256: u16 = 0x0003;
const TPM_ECC_NIST_P384: u16 = 0x0004;
const TPM_ECC_NIST_P521: u16 = 0x0005;

/// The largest `pubArea` / `certInfo` accepted.
const MAX_STRUCTURE_LEN: usize = 4096;

const OID_TPM_MANUFACTURER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.1");
const OID_TPM_MODEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.2");
const OID_TPM_VERSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.3");
const OID_AIK_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.8.3");

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    if stmt.text("ver")? != "2.0" {
        return Err(AttestationError::TpmCheck {
            check: "ver == \"2.0\"",
        });
    }
    let (alg, algorithm) = stmt.signature_algorithm(true)?;
    let sig = stmt.bytes("sig")?;
    let cert_info_bytes = stmt.bytes("certInfo")?;
    let pub_area_bytes = stmt.bytes("pubArea")?;
    if stmt.get("ecdaaKeyId").is_some() {
        return Err(AttestationError::UnexpectedField {
            format: FORMAT.name(),
            field: "ecdaaKeyId".into(),
        });
    }
    let chain = x509::parse_chain(FORMAT.name(), stmt.array("x5c")?)?;

    let pub_area = PubArea::parse(pub_area_bytes)?;
    pub_area.check_key(&input.credential_key)?;

    let cert_info = CertInfo::parse(cert_info_bytes)?;
    if cert_info.magic != TPM_GENERATED_VALUE {
        return Err(AttestationError::TpmCheck {
            check: "certInfo.magic == TPM_GENERATED_VALUE",
        });
    }
    if cert_info.kind != TPM_ST_ATTEST_CERTIFY {
        return Err(AttestationError::TpmCheck {
            check: "certInfo.type == TPM_ST_ATTEST_CERTIFY",
        });
    }
    let expected_extra = statement_hash(algorithm, &statement::signed_data(input))?;
    if !bool::from(cert_info.extra_data.ct_eq(&expected_extra)) {
        return Err(AttestationError::TpmCheck {
            check: "certInfo.extraData == hash(attToBeSigned)",
        });
    }
    let mut expected_name = pub_area.name_alg.to_be_bytes().to_vec();
    expected_name.extend(name_hash(pub_area.name_alg, pub_area_bytes)?);
    if !bool::from(cert_info.attested_name.ct_eq(&expected_name)) {
        return Err(AttestationError::TpmCheck {
            check: "certInfo.attested.name == name(pubArea)",
        });
    }

    let leaf = statement::leaf(FORMAT.name(), &chain)?;
    let key = statement::leaf_key(leaf)?;
    statement::verify_with(FORMAT.name(), alg, algorithm, &key, cert_info_bytes, sig)?;
    check_aik_certificate(leaf, &input.aaguid)?;
    statement::finish_with_chain(FORMAT, AttestationType::AttCa, &chain, input)
}

/// The hash `extraData` must hold: the hash of the statement's `alg`.
fn statement_hash(algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, AttestationError> {
    use SignatureAlgorithm as A;
    Ok(match algorithm {
        A::Rs1 => Sha1::digest(data).to_vec(),
        A::Es256 | A::Rs256 | A::Ps256 => Sha256::digest(data).to_vec(),
        A::Es384 | A::Rs384 | A::Ps384 => Sha384::digest(data).to_vec(),
        A::Es512 | A::Rs512 | A::Ps512 | A::EdDsa => Sha512::digest(data).to_vec(),
        _ => {
            return Err(AttestationError::AlgorithmUnsupported {
                format: FORMAT.name(),
                alg: algorithm.cose().unwrap_or(0),
            });
        }
    })
}

fn name_hash(name_alg: u16, data: &[u8]) -> Result<Vec<u8>, AttestationError> {
    Ok(match name_alg {
        TPM_ALG_SHA1 => Sha1::digest(data).to_vec(),
        TPM_ALG_SHA256 => Sha256::digest(data).to_vec(),
        TPM_ALG_SHA384 => Sha384::digest(data).to_vec(),
        TPM_ALG_SHA512 => Sha512::digest(data).to_vec(),
        other => return Err(AttestationError::TpmHashUnsupported { alg: other }),
    })
}

/// §8.3.1 TPM Attestation Statement Certificate Requirements.
fn check_aik_certificate(cert: &Cert, aaguid: &[u8; 16]) -> Result<(), AttestationError> {
    let requirement = |requirement| AttestationError::CertificateRequirement {
        format: FORMAT.name(),
        requirement,
    };
    if cert.version() != 3 {
        return Err(requirement("version must be 3"));
    }
    if !cert.subject_is_empty() {
        return Err(requirement("subject must be empty"));
    }
    let san = cert
        .extension(x509::OID_SUBJECT_ALT_NAME)
        .map_err(|()| requirement("subjectAltName must appear once"))?
        .ok_or(requirement("subjectAltName must be present"))?;
    // RFC 5280 §4.2.1.6: with an empty subject the subjectAltName MUST be critical (the
    // TPM EK/AIK profile's SAN is critical for that reason).
    if !san.critical {
        return Err(requirement(
            "subjectAltName must be critical when the subject is empty",
        ));
    }
    let names = x509_cert::ext::pkix::SubjectAltName::from_der(san.extn_value.as_bytes())
        .map_err(|_| requirement("subjectAltName must be well-formed"))?;
    let mut manufacturers = Vec::new();
    let mut models = Vec::new();
    let mut versions = Vec::new();
    for name in &names.0 {
        if let GeneralName::DirectoryName(dn) = name {
            manufacturers.extend(x509::name_values(dn, OID_TPM_MANUFACTURER));
            models.extend(x509::name_values(dn, OID_TPM_MODEL));
            versions.extend(x509::name_values(dn, OID_TPM_VERSION));
        }
    }
    let one_non_empty = |values: &[&str]| matches!(values, [value] if !value.is_empty());
    if !(manufacturers.len() == 1 && one_non_empty(&models) && one_non_empty(&versions)) {
        return Err(requirement(
            "subjectAltName must name tcpaTpmManufacturer, tcpaTpmModel and tcpaTpmVersion",
        ));
    }
    if !manufacturers.first().is_some_and(|m| is_tcg_vendor_id(m)) {
        return Err(requirement(
            "subjectAltName tcpaTpmManufacturer must be a TCG vendor id (id:XXXXXXXX)",
        ));
    }
    let eku = cert
        .extension(x509::OID_EXT_KEY_USAGE)
        .map_err(|()| requirement("extKeyUsage must appear once"))?
        .ok_or(requirement("extKeyUsage must be present"))?;
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku.extn_value.as_bytes())
        .map_err(|_| requirement("extKeyUsage must be well-formed"))?;
    if !eku.0.contains(&OID_AIK_CERTIFICATE) {
        return Err(requirement(
            "extKeyUsage must contain tcg-kp-AIKCertificate",
        ));
    }
    if cert.basic_constraints_ca() == Some(true) {
        return Err(requirement("basic constraints CA must be false"));
    }
    x509::check_aaguid_extension(FORMAT.name(), cert, aaguid)
}

/// The TPM vendor IDs of the TCG "TPM Vendor ID Registry, Family 1.2 and 2.0",
/// Version 1.07 Revision 0.02 (2024),
/// <https://trustedcomputinggroup.org/resource/vendor-id-registry/>: the 4-byte
/// TPM_PT_MANUFACTURER values, written `id:` and 8 hex digits in the AIK certificate's
/// tcpaTpmManufacturer. (FIDO's conformance-tool id FFFFF1D0 is not a TCG vendor id.)
const TCG_VENDOR_IDS: [(u32, &str); 29] = [
    (0x414D_4400, "AMD"),
    (0x414E_5400, "Ant Group"),
    (0x4154_4D4C, "Atmel"),
    (0x4252_434D, "Broadcom"),
    (0x4353_434F, "Cisco"),
    (0x464C_5953, "Flyslice Technologies"),
    (0x524F_4343, "Fuzhou Rockchip"),
    (0x474F_4F47, "Google"),
    (0x4850_4900, "HPI"),
    (0x4850_4500, "HPE"),
    (0x4849_5349, "Huawei"),
    (0x4942_4D00, "IBM"),
    (0x4946_5800, "Infineon"),
    (0x494E_5443, "Intel"),
    (0x4C45_4E00, "Lenovo"),
    (0x4D53_4654, "Microsoft"),
    (0x4E53_4D20, "National Semiconductor"),
    (0x4E54_5A00, "Nationz"),
    (0x4E53_4700, "NSING"),
    (0x4E54_4300, "Nuvoton Technology"),
    (0x5143_4F4D, "Qualcomm"),
    (0x534D_534E, "Samsung"),
    (0x5345_4345, "SecEdge"),
    (0x534E_5300, "Sinosun"),
    (0x534D_5343, "SMSC"),
    (0x5354_4D20, "STMicroelectronics"),
    (0x5458_4E00, "Texas Instruments"),
    (0x5745_4300, "Winbond"),
    (0x5345_414C, "Wisekey"),
];

/// `id:` followed by exactly 8 hex digits naming a registered TCG vendor.
fn is_tcg_vendor_id(value: &str) -> bool {
    let Some(hex) = value.strip_prefix("id:") else {
        return false;
    };
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    u32::from_str_radix(hex, 16).is_ok_and(|id| TCG_VENDOR_IDS.iter().any(|(v, _)| *v == id))
}

/// A bounded big-endian reader over one TPM structure.
struct TpmReader<'a> {
    structure: &'static str,
    rest: &'a [u8],
}

impl<'a> TpmReader<'a> {
    fn new(structure: &'static str, bytes: &'a [u8]) -> Result<Self, AttestationError> {
        if bytes.len() > MAX_STRUCTURE_LEN {
            return Err(AttestationError::TpmStructure {
                structure,
                reason: "too large",
            });
        }
        Ok(Self {
            structure,
            rest: bytes,
        })
    }

    const fn truncated(&self) -> AttestationError {
        AttestationError::TpmStructure {
            structure: self.structure,
            reason: "truncated",
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], AttestationError> {
        let (head, tail) = self
            .rest
            .split_at_checked(len)
            .ok_or_else(|| self.truncated())?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], AttestationError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| self.truncated())
    }

    fn u8(&mut self) -> Result<u8, AttestationError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn u16(&mut self) -> Result<u16, AttestationError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, AttestationError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, AttestationError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A TPM2B: a u16 size and that many bytes.
    fn sized(&mut self) -> Result<&'a [u8], AttestationError> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    fn finish(self) -> Result<(), AttestationError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(AttestationError::TpmStructure {
                structure: self.structure,
                reason: "trailing bytes",
            })
        }
    }
}

/// The parts of `TPMT_PUBLIC` §8.3 compares with the credential key.
#[derive(Debug, PartialEq, Eq)]
struct PubArea<'a> {
    name_alg: u16,
    key: PubKey<'a>,
}

#[derive(Debug, PartialEq, Eq)]
enum PubKey<'a> {
    Rsa {
        exponent: u32,
        modulus: &'a [u8],
    },
    Ecc {
        curve_id: u16,
        x: &'a [u8],
        y: &'a [u8],
    },
}

impl<'a> PubArea<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, AttestationError> {
        let mut r = TpmReader::new("pubArea", bytes)?;
        let kind = r.u16()?;
        let name_alg = r.u16()?;
        let _object_attributes = r.u32()?;
        let _auth_policy = r.sized()?;
        let key = match kind {
            TPM_ALG_RSA => {
                skip_symmetric(&mut r)?;
                skip_scheme(&mut r)?;
                let _key_bits = r.u16()?;
                let exponent = r.u32()?;
                let modulus = r.sized()?;
                PubKey::Rsa { exponent, modulus }
            }
            TPM_ALG_ECC => {
                skip_symmetric(&mut r)?;
                skip_scheme(&mut r)?;
                let curve_id = r.u16()?;
                skip_scheme(&mut r)?; // kdf: TPMT_KDF_SCHEME
                let x = r.sized()?;
                let y = r.sized()?;
                PubKey::Ecc { curve_id, x, y }
            }
            _ => {
                return Err(AttestationError::TpmCheck {
                    check: "pubArea.type is TPM_ALG_RSA or TPM_ALG_ECC",
                });
            }
        };
        r.finish()?;
        Ok(Self { name_alg, key })
    }

    /// The pubArea key must be the credential public key.
    fn check_key(&self, credential: &PublicKeyMaterial<'_>) -> Result<(), AttestationError> {
        let matches = match (&self.key, credential) {
            (PubKey::Rsa { exponent, modulus }, PublicKeyMaterial::Rsa { n, e }) => {
                // An exponent of 0 means the default, 2^16 + 1.
                let exponent = if *exponent == 0 { 65_537 } else { *exponent };
                let exponent_bytes = exponent.to_be_bytes();
                x509::same_key(
                    &PublicKeyMaterial::Rsa {
                        n: modulus,
                        e: &exponent_bytes,
                    },
                    &PublicKeyMaterial::Rsa { n, e },
                )
            }
            (PubKey::Ecc { curve_id, x, y }, PublicKeyMaterial::Ec { curve, .. }) => {
                let tpm_curve = match curve {
                    EcCurve::P256 => TPM_ECC_NIST_P256,
                    EcCurve::P384 => TPM_ECC_NIST_P384,
                    EcCurve::P521 => TPM_ECC_NIST_P521,
                };
                *curve_id == tpm_curve
                    && x509::same_key(
                        &PublicKeyMaterial::Ec {
                            curve: *curve,
                            x,
                            y,
                        },
                        credential,
                    )
            }
            _ => false,
        };
        if matches {
            Ok(())
        } else {
            Err(AttestationError::TpmCheck {
                check: "pubArea key == credential public key",
            })
        }
    }
}

/// TPMT_SYM_DEF_OBJECT: an algorithm, then keyBits and mode unless it is NULL.
fn skip_symmetric(r: &mut TpmReader<'_>) -> Result<(), AttestationError> {
    if r.u16()? != TPM_ALG_NULL {
        let _key_bits = r.u16()?;
        let _mode = r.u16()?;
    }
    Ok(())
}

/// TPMT_{RSA,ECC}_SCHEME / TPMT_KDF_SCHEME: a scheme, then its hashAlg unless NULL.
fn skip_scheme(r: &mut TpmReader<'_>) -> Result<(), AttestationError> {
    if r.u16()? != TPM_ALG_NULL {
        let _hash_alg = r.u16()?;
    }
    Ok(())
}

/// The parts of `TPMS_ATTEST` §8.3 checks.
#[derive(Debug, PartialEq, Eq)]
struct CertInfo<'a> {
    magic: u32,
    kind: u16,
    extra_data: &'a [u8],
    attested_name: &'a [u8],
}

impl<'a> CertInfo<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, AttestationError> {
        let mut r = TpmReader::new("certInfo", bytes)?;
        let magic = r.u32()?;
        let kind = r.u16()?;
        let _qualified_signer = r.sized()?;
        let extra_data = r.sized()?;
        // TPMS_CLOCK_INFO: clock, resetCount, restartCount, safe.
        let _clock = r.u64()?;
        let _reset_count = r.u32()?;
        let _restart_count = r.u32()?;
        let _safe = r.u8()?;
        let _firmware_version = r.u64()?;
        // TPMS_CERTIFY_INFO (the attested union for TPM_ST_ATTEST_CERTIFY).
        let attested_name = r.sized()?;
        let _qualified_name = r.sized()?;
        r.finish()?;
        Ok(Self {
            magic,
            kind,
            extra_data,
            attested_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ecc_pub_area() -> Vec<u8> {
        let mut out = vec![0x00, 0x23, 0x00, 0x0b, 0x00, 0x06, 0x04, 0x72, 0x00, 0x00];
        out.extend([0x00, 0x10, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10]);
        out.extend([0x00, 0x20]);
        out.extend([1_u8; 32]);
        out.extend([0x00, 0x20]);
        out.extend([2_u8; 32]);
        out
    }

    #[test]
    fn ecc_pub_area_is_parsed() {
        let bytes = ecc_pub_area();
        let parsed = PubArea::parse(&bytes).unwrap();
        assert_eq!(parsed.name_alg, TPM_ALG_SHA256);
        assert_eq!(
            parsed.key,
            PubKey::Ecc {
                curve_id: TPM_ECC_NIST_P256,
                x: &[1; 32],
                y: &[2; 32]
            }
        );
        let credential = PublicKeyMaterial::Ec {
            curve: EcCurve::P256,
            x: &[1; 32],
            y: &[2; 32],
        };
        parsed.check_key(&credential).unwrap();
        let other = PublicKeyMaterial::Ec {
            curve: EcCurve::P256,
            x: &[1; 32],
            y: &[3; 32],
        };
        assert!(parsed.check_key(&other).is_err());
    }

    #[test]
    fn trailing_and_truncated_pub_areas_are_rejected() {
        let mut bytes = ecc_pub_area();
        bytes.push(0);
        assert_eq!(
            PubArea::parse(&bytes).unwrap_err(),
            AttestationError::TpmStructure {
                structure: "pubArea",
                reason: "trailing bytes"
            }
        );
        let bytes = ecc_pub_area();
        for len in 0..bytes.len() {
            assert!(PubArea::parse(&bytes[..len]).is_err(), "prefix {len}");
        }
    }

    /// An RSA pubArea as Windows Hello TPMs write it: SHA-256 name, NULL symmetric,
    /// RSASSA scheme with SHA-256, 2048 bits, exponent 0 (= 65537).
    fn rsa_pub_area(modulus: &[u8]) -> Vec<u8> {
        let mut out = vec![0x00, 0x01, 0x00, 0x0b, 0x00, 0x06, 0x04, 0x72, 0x00, 0x00];
        out.extend([
            0x00, 0x10, 0x00, 0x14, 0x00, 0x0b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]);
        out.extend(u16::try_from(modulus.len()).unwrap().to_be_bytes());
        out.extend(modulus);
        out
    }

    #[test]
    fn rsa_pub_area_is_parsed_and_default_exponent_matches() {
        let modulus = [0xc5_u8; 256];
        let bytes = rsa_pub_area(&modulus);
        let parsed = PubArea::parse(&bytes).unwrap();
        assert_eq!(
            parsed.key,
            PubKey::Rsa {
                exponent: 0,
                modulus: &modulus
            }
        );
        let credential = PublicKeyMaterial::Rsa {
            n: &modulus,
            e: &[1, 0, 1],
        };
        parsed.check_key(&credential).unwrap();
        let wrong_e = PublicKeyMaterial::Rsa {
            n: &modulus,
            e: &[3],
        };
        assert!(parsed.check_key(&wrong_e).is_err());
        let ec = PublicKeyMaterial::Ec {
            curve: EcCurve::P256,
            x: &[1; 32],
            y: &[2; 32],
        };
        assert!(parsed.check_key(&ec).is_err());
    }

    #[test]
    fn cert_info_fields_are_read_in_order() {
        let mut bytes = TPM_GENERATED_VALUE.to_be_bytes().to_vec();
        bytes.extend(TPM_ST_ATTEST_CERTIFY.to_be_bytes());
        bytes.extend([0x00, 0x02, 0xaa, 0xbb]); // qualifiedSigner
        bytes.extend([0x00, 0x03, 1, 2, 3]); // extraData
        bytes.extend([0_u8; 17]); // clockInfo
        bytes.extend([0_u8; 8]); // firmwareVersion
        bytes.extend([0x00, 0x02, 0x00, 0x0b]); // attested.name
        bytes.extend([0x00, 0x00]); // attested.qualifiedName
        let parsed = CertInfo::parse(&bytes).unwrap();
        assert_eq!(parsed.extra_data, &[1, 2, 3]);
        assert_eq!(parsed.attested_name, &[0x00, 0x0b]);
        bytes.push(0);
        assert!(CertInfo::parse(&bytes).is_err());
    }

    #[test]
    fn unsupported_name_algorithms_are_named() {
        assert_eq!(
            name_hash(0x0012, b"x").unwrap_err(),
            AttestationError::TpmHashUnsupported { alg: 0x0012 }
        );
        assert_eq!(name_hash(TPM_ALG_SHA1, b"").unwrap().len(), 20);
    }

    proptest! {
        #[test]
        fn pub_area_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = PubArea::parse(&bytes);
        }

        #[test]
        fn cert_info_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = CertInfo::parse(&bytes);
        }
    }
}
