"""The disagreements compare.py accepts, each decided by the spec text quoted here.

Every entry names the library, the case kind (ceremony and mutation, optionally the
format or algorithm) and what the library does (`library_accepts`). In each of them
verify refuses and the library accepts. docs/webauthn-differential.md explains each
one at more length; an entry that stops matching a disagreement fails the run
(compare.py reports it as stale).

NOT_COMPARED lists case kinds a library cannot judge at all. Those cases are
reported as n/a rather than compared.
"""

NOT_COMPARED = [
    # python-fido2 2.2.1 has no android-key attestation class: Attestation.for_type
    # returns UnsupportedAttestation, which refuses every android-key statement.
    {"library": "fido2", "ceremony": "registration", "format": "android-key"},
    # py_webauthn 3.0.1 has no COSEAlgorithmIdentifier for ES384 (-35): it cannot
    # register or verify an ES384 credential.
    {"library": "py_webauthn", "alg": "ES384"},
]

_CROSS_ORIGIN_REG = (
    'WebAuthn L3 §7.1 step 10: "If C.crossOrigin is present and set to true, verify that the '
    "Relying Party expects that this credential would have been created within an iframe that "
    'is not same-origin with its ancestors." The harness RP (like verify by default, '
    "CrossOriginPolicy::Reject) expects no such iframe. The library has no crossOrigin check."
)
_CROSS_ORIGIN_AUTH = (
    'WebAuthn L3 §7.2 step 13: "If C.crossOrigin is present and set to true, verify that the '
    "Relying Party expects this credential to be used within an iframe that is not same-origin "
    'with its ancestors." The harness RP expects no such iframe. The library has no crossOrigin check.'
)
_BS_WITHOUT_BE = (
    'WebAuthn L3 §7.1 step 17 and §7.2 step 18: "If the BE bit of the flags in authData is not '
    'set, verify that the BS bit is not set." (§6.1.3: BE 0 with BS 1 "is not allowed".) '
    "python-fido2 does not look at BS."
)
_DUPLICATE_KEYS = (
    'RFC 8949 §3.1 (major type 5; see also §5.6): "A map that has duplicate keys may be well-formed, '
    'but it is not valid, and thus it causes indeterminate decoding". '
    "WebAuthn encodes the attestation object, the COSE_Key and the extensions as CBOR maps "
    "(§6.5, §6.5.1.1, §9). python-fido2's decoder keeps the last value of a repeated key."
)
_SIGN_COUNT = (
    "WebAuthn L3 §7.2 step 22: when either signCount is nonzero and authData.signCount is not "
    'greater than storedSignCount, "This is a signal that the authenticator may be cloned"; '
    "whether to fail the ceremony is the Relying Party's decision. verify refuses by default "
    "(CounterPolicy::Reject), as py_webauthn does; python-fido2's authenticate_complete never "
    "compares counts (it leaves step 22 to its caller)."
)
_CREDENTIAL_TYPE = (
    'WebAuthn L3 §5.1: a PublicKeyCredential\'s [[type]] is "public-key" (the `type` member of '
    "RegistrationResponseJSON / AuthenticationResponseJSON, §5.1.7-8). A response with another "
    "type is not a public key credential. python-fido2's from_dict ignores `type`."
)
_AT_IN_ASSERTION = (
    "WebAuthn L3 §6.3.3 authenticatorGetAssertion step 10: \"Let authenticatorData be the byte "
    "array specified in § 6.1 Authenticator Data including processedExtensions, if any, as the "
    'extensions and excluding attestedCredentialData." An assertion with AT set and attested '
    "credential data was not produced by that procedure. §7.2 has no step of its own for it; "
    "verify refuses it (docs/webauthn.md, checks verify adds to §7.2), the libraries skip the data."
)
_TRAILING_OBJECT = (
    "WebAuthn L3 §6.5 / §6.5.4: the attestation object is a CBOR map (fmt, attStmt, "
    "authData), and §7.1 step 13 CBOR-decodes attestationObject as that one data item. Bytes "
    "after the map are not part of any data item of it (RFC 8949 §1.2: several items in a row "
    "are a data stream, RFC 8742's CBOR Sequence, not one data item). py_webauthn's "
    "parse_attestation_object decodes the first item and ignores the rest."
)
_TRUNCATED = (
    "RFC 8949 §3.1 / Appendix F: a byte string is its head's length of bytes; input that ends "
    'before them is "too little data", not well-formed. Here the credential public key, the last '
    "item of authData, is one byte short. python-fido2's decoder returns the shorter byte "
    "string (cbor.decode_from(b'\\x42\\x01') == (b'\\x01', b'')). It then refuses only where "
    "it uses or compares the key (packed self attestation, fido-u2f, tpm); with none, packed "
    "x5c and apple it registers the shortened key."
)

ALLOWED = [
    {"library": "py_webauthn", "ceremony": "registration", "mutation": "cross_origin", "library_accepts": True, "spec": _CROSS_ORIGIN_REG},
    {"library": "fido2", "ceremony": "registration", "mutation": "cross_origin", "library_accepts": True, "spec": _CROSS_ORIGIN_REG},
    {"library": "py_webauthn", "ceremony": "authentication", "mutation": "cross_origin", "library_accepts": True, "spec": _CROSS_ORIGIN_AUTH},
    {"library": "fido2", "ceremony": "authentication", "mutation": "cross_origin", "library_accepts": True, "spec": _CROSS_ORIGIN_AUTH},
    {"library": "fido2", "ceremony": "registration", "mutation": "bs_without_be", "library_accepts": True, "spec": _BS_WITHOUT_BE},
    {"library": "fido2", "ceremony": "authentication", "mutation": "bs_without_be", "library_accepts": True, "spec": _BS_WITHOUT_BE},
    {"library": "fido2", "ceremony": "registration", "mutation": "attestation_object_duplicate_key", "library_accepts": True, "spec": _DUPLICATE_KEYS},
    {"library": "fido2", "ceremony": "registration", "mutation": "cose_key_duplicate_label", "library_accepts": True, "spec": _DUPLICATE_KEYS},
    {"library": "fido2", "ceremony": "authentication", "mutation": "extensions_duplicate_key", "library_accepts": True, "spec": _DUPLICATE_KEYS},
    {"library": "fido2", "ceremony": "authentication", "mutation": "counter_equal", "library_accepts": True, "spec": _SIGN_COUNT},
    {"library": "fido2", "ceremony": "authentication", "mutation": "counter_regressed", "library_accepts": True, "spec": _SIGN_COUNT},
    {"library": "fido2", "ceremony": "authentication", "mutation": "counter_zero_after_nonzero", "library_accepts": True, "spec": _SIGN_COUNT},
    {"library": "fido2", "ceremony": "registration", "mutation": "wrong_credential_type", "library_accepts": True, "spec": _CREDENTIAL_TYPE},
    {"library": "fido2", "ceremony": "authentication", "mutation": "wrong_credential_type", "library_accepts": True, "spec": _CREDENTIAL_TYPE},
    {"library": "py_webauthn", "ceremony": "authentication", "mutation": "at_set", "library_accepts": True, "spec": _AT_IN_ASSERTION},
    {"library": "fido2", "ceremony": "authentication", "mutation": "at_set", "library_accepts": True, "spec": _AT_IN_ASSERTION},
    {"library": "py_webauthn", "ceremony": "registration", "mutation": "attestation_object_trailing_byte", "library_accepts": True, "spec": _TRAILING_OBJECT},
    {"library": "fido2", "ceremony": "registration", "mutation": "auth_data_truncated", "library_accepts": True, "spec": _TRUNCATED},
]
