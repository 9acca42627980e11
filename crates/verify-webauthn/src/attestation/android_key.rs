//! The `android-key` attestation statement format (WebAuthn L3 §8.4).
//!
//! The signature over `authData || clientDataHash` verifies with the first `x5c`
//! certificate's key under `alg`; that key is the credential public key; its
//! KeyDescription extension (1.3.6.1.4.1.11129.2.1.17) has `attestationChallenge` equal
//! to `clientDataHash`, no `allApplications` in either authorization list, and
//! `origin == KM_ORIGIN_GENERATED` and `purpose ∋ KM_PURPOSE_SIGN` in `teeEnforced`
//! (or, when [`super::AttestationPolicy::android_key_allow_software`] is set, in the
//! union of `teeEnforced` and `softwareEnforced`). The type is
//! [`AttestationType::Basic`].

use const_oid::ObjectIdentifier;
use subtle::ConstantTimeEq as _;

use super::der_tlv::Tlv;
use super::statement::{self, Statement};
use super::x509;
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

const FORMAT: AttestationFormat = AttestationFormat::AndroidKey;
const OID_KEY_DESCRIPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.1.17");
const OID_KEY_DESCRIPTION_TEXT: &str = "1.3.6.1.4.1.11129.2.1.17";

const TAG_PURPOSE: u32 = 1;
const TAG_ALL_APPLICATIONS: u32 = 600;
const TAG_ORIGIN: u32 = 702;
const KM_PURPOSE_SIGN: u64 = 2;
const KM_ORIGIN_GENERATED: u64 = 0;

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    let (alg, algorithm) = stmt.signature_algorithm(false)?;
    let sig = stmt.bytes("sig")?;
    let chain = x509::parse_chain(FORMAT.name(), stmt.array("x5c")?)?;
    let leaf = statement::leaf(FORMAT.name(), &chain)?;
    let key = statement::leaf_key(leaf)?;
    statement::verify_with(
        FORMAT.name(),
        alg,
        algorithm,
        &key,
        &statement::signed_data(input),
        sig,
    )?;
    if !x509::same_key(&key, &input.credential_key) {
        return Err(AttestationError::CertificateKeyMismatch {
            format: FORMAT.name(),
        });
    }
    let malformed = AttestationError::ExtensionMalformed {
        format: FORMAT.name(),
        oid: OID_KEY_DESCRIPTION_TEXT,
    };
    let ext = leaf
        .extension(OID_KEY_DESCRIPTION)
        .map_err(|()| malformed.clone())?
        .ok_or(AttestationError::ExtensionMissing {
            format: FORMAT.name(),
            oid: OID_KEY_DESCRIPTION_TEXT,
        })?;
    let description = KeyDescription::parse(ext.extn_value.as_bytes()).ok_or(malformed)?;
    check_description(&description, input)?;
    statement::finish_with_chain(FORMAT, AttestationType::Basic, &chain, input)
}

fn check_description(
    description: &KeyDescription<'_>,
    input: &StatementInput<'_>,
) -> Result<(), AttestationError> {
    if !bool::from(description.challenge.ct_eq(&input.client_data_hash[..])) {
        return Err(AttestationError::AndroidKeyChallengeMismatch);
    }
    if description.software.all_applications || description.tee.all_applications {
        return Err(AttestationError::AndroidKeyAllApplications);
    }
    let allow_software = input.policy.android_key_allow_software;
    let list = if allow_software {
        "teeEnforced/softwareEnforced"
    } else {
        "teeEnforced"
    };
    let origins = description.tee.origin.iter().chain(
        description
            .software
            .origin
            .iter()
            .filter(|_| allow_software),
    );
    let mut any_origin = false;
    for origin in origins {
        any_origin = true;
        if *origin != KM_ORIGIN_GENERATED {
            return Err(AttestationError::AndroidKeyOrigin { list });
        }
    }
    if !any_origin {
        return Err(AttestationError::AndroidKeyOrigin { list });
    }
    let signs = description.tee.purposes.contains(&KM_PURPOSE_SIGN)
        || (allow_software && description.software.purposes.contains(&KM_PURPOSE_SIGN));
    if !signs {
        return Err(AttestationError::AndroidKeyPurpose { list });
    }
    Ok(())
}

/// The parts of KeyDescription §8.4 looks at.
#[derive(Debug, PartialEq, Eq)]
struct KeyDescription<'a> {
    challenge: &'a [u8],
    software: AuthorizationList,
    tee: AuthorizationList,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct AuthorizationList {
    purposes: Vec<u64>,
    origin: Option<u64>,
    all_applications: bool,
}

impl<'a> KeyDescription<'a> {
    /// KeyDescription ::= SEQUENCE { attestationVersion INTEGER, attestationSecurityLevel
    /// ENUMERATED, keyMintVersion INTEGER, keyMintSecurityLevel ENUMERATED,
    /// attestationChallenge OCTET STRING, uniqueId OCTET STRING, softwareEnforced
    /// AuthorizationList, hardwareEnforced AuthorizationList }
    fn parse(der: &'a [u8]) -> Option<Self> {
        let seq = Tlv::parse_exact(der)?;
        if seq.tag != Tlv::SEQUENCE {
            return None;
        }
        let fields = Tlv::parse_all(seq.value)?;
        let [
            version,
            level,
            km_version,
            km_level,
            challenge,
            unique_id,
            software,
            tee,
        ] = fields.as_slice()
        else {
            return None;
        };
        version.small_uint()?;
        km_version.small_uint()?;
        if level.tag != Tlv::ENUMERATED || km_level.tag != Tlv::ENUMERATED {
            return None;
        }
        if challenge.tag != Tlv::OCTET_STRING || unique_id.tag != Tlv::OCTET_STRING {
            return None;
        }
        Some(Self {
            challenge: challenge.value,
            software: AuthorizationList::parse(software)?,
            tee: AuthorizationList::parse(tee)?,
        })
    }
}

impl AuthorizationList {
    /// A SEQUENCE of `[n] EXPLICIT` members in ascending tag order; members other than
    /// purpose, origin and allApplications are skipped.
    fn parse(list: &Tlv<'_>) -> Option<Self> {
        if list.tag != Tlv::SEQUENCE {
            return None;
        }
        let mut out = Self::default();
        let mut previous = None;
        for member in Tlv::parse_all(list.value)? {
            let number = member.tag.checked_sub(Tlv::context_constructed(0))?;
            if number > (1 << 20) || previous.is_some_and(|p| p >= number) {
                return None; // not context-constructed, or repeated / out of order
            }
            previous = Some(number);
            let inner = Tlv::parse_exact(member.value)?;
            match number {
                TAG_PURPOSE => {
                    if inner.tag != Tlv::SET {
                        return None;
                    }
                    for purpose in Tlv::parse_all(inner.value)? {
                        out.purposes.push(purpose.small_uint()?);
                    }
                }
                TAG_ORIGIN => out.origin = Some(inner.small_uint()?),
                TAG_ALL_APPLICATIONS => {
                    if inner.tag != Tlv::NULL || !inner.value.is_empty() {
                        return None;
                    }
                    out.all_applications = true;
                }
                _ => {}
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn description(software: &[u8], tee: &[u8]) -> Vec<u8> {
        let mut body = vec![
            0x02, 0x01, 0x2c, 0x0a, 0x01, 0x01, 0x02, 0x01, 0x00, 0x0a, 0x01, 0x01,
        ];
        body.extend([0x04, 0x20]);
        body.extend([9_u8; 32]);
        body.extend([0x04, 0x00]);
        body.push(0x30);
        body.push(u8::try_from(software.len()).unwrap());
        body.extend(software);
        body.push(0x30);
        body.push(u8::try_from(tee.len()).unwrap());
        body.extend(tee);
        let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
        out.extend(body);
        out
    }

    const PURPOSE_SIGN: [u8; 7] = [0xa1, 0x05, 0x31, 0x03, 0x02, 0x01, 0x02];
    const ORIGIN_GENERATED: [u8; 7] = [0xbf, 0x85, 0x3e, 0x03, 0x02, 0x01, 0x00];
    const ALL_APPS: [u8; 6] = [0xbf, 0x84, 0x58, 0x02, 0x05, 0x00];

    #[test]
    fn parses_purpose_origin_and_all_applications() {
        let tee = [&PURPOSE_SIGN[..], &ALL_APPS, &ORIGIN_GENERATED].concat();
        let bytes = description(&[], &tee);
        let parsed = KeyDescription::parse(&bytes).unwrap();
        assert_eq!(parsed.challenge, &[9_u8; 32]);
        assert_eq!(parsed.tee.purposes, vec![2]);
        assert_eq!(parsed.tee.origin, Some(0));
        assert!(parsed.tee.all_applications);
        assert_eq!(parsed.software, AuthorizationList::default());
    }

    #[test]
    fn out_of_order_members_are_rejected() {
        let tee = [&ORIGIN_GENERATED[..], &PURPOSE_SIGN].concat();
        assert!(KeyDescription::parse(&description(&[], &tee)).is_none());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = KeyDescription::parse(&bytes);
        }
    }
}
