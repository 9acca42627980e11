#!/usr/bin/env python3
"""Differential test: verify's verdicts against py_webauthn and python-fido2.

    python compare.py cases.jsonl

cases.jsonl comes from `cargo run -p verify-webauthn --example differential`: one
registration or assertion per line, with the ceremony's expectations and verify's
verdict. Each case runs through

  * py_webauthn (`webauthn`): verify_registration_response /
    verify_authentication_response, with the W3C test-vector root as the only
    attestation root of every format;
  * python-fido2 (`fido2`): Fido2Server.register_complete (attestation "direct",
    statements checked by fido2's own Attestation classes, x5c chains checked up to
    the same root) / authenticate_complete.

Only accept/refuse is compared. Prints one row per ceremony and mutation and exits
1 if any disagreement is not in ALLOWED (allowlist.py), or if an ALLOWED entry no
longer matches any disagreement (a stale entry hides nothing, but it is a claim about
the libraries that is no longer true). docs/webauthn-differential.md explains every
entry with the spec text that decides it.
"""

from __future__ import annotations

import base64
import importlib.metadata
import collections
import json
import os
import sys
import traceback

import webauthn
from fido2 import cbor
from fido2.attestation import Attestation, UnsupportedType
from fido2.attestation.base import verify_x509_chain
from fido2.cose import CoseKey
from fido2.server import Fido2Server
from fido2.webauthn import AttestedCredentialData
from OpenSSL.crypto import FILETYPE_ASN1, FILETYPE_PEM, dump_certificate, load_certificate
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import AttestationFormat

# No __pycache__ next to the sources: the directory is part of the published package.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from allowlist import ALLOWED, NOT_COMPARED  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "..", "testdata", "attestation", "w3c-l3-registrations.json")
ROOT_DER = bytes.fromhex(json.load(open(VECTORS))["root_der_hex"])
# The PEM form py_webauthn's android-key check compares x5c's last certificate with.
ROOT_PEM = dump_certificate(FILETYPE_PEM, load_certificate(FILETYPE_ASN1, ROOT_DER))
LIBRARIES = ("py_webauthn", "fido2")
PY_WEBAUTHN_ALGS = {a.value for a in COSEAlgorithmIdentifier}


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def run(fn) -> tuple[bool, str]:
    """(accepted, reason): any exception is the library refusing the input."""
    try:
        fn()
        return True, ""
    except Exception as exc:  # noqa: BLE001 - every refusal counts, whatever its class
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0][:160]


# ---- py_webauthn -------------------------------------------------------------------


def py_webauthn_case(case: dict) -> tuple[bool, str]:
    uv = case["user_verification"] == "required"
    if case["ceremony"] == "registration":
        return run(
            lambda: webauthn.verify_registration_response(
                credential=case["response"],
                expected_challenge=b64d(case["challenge"]),
                expected_rp_id=case["rp_id"],
                expected_origin=case["origin"],
                require_user_verification=uv,
                # verify's list, less what py_webauthn has no identifier for (ES384).
                supported_pub_key_algs=[
                    COSEAlgorithmIdentifier(a) for a in case["algorithms"] if a in PY_WEBAUTHN_ALGS
                ],
                pem_root_certs_bytes_by_fmt={fmt: [ROOT_PEM] for fmt in AttestationFormat},
            )
        )
    return run(
        lambda: webauthn.verify_authentication_response(
            credential=case["response"],
            expected_challenge=b64d(case["challenge"]),
            expected_rp_id=case["rp_id"],
            expected_origin=case["origin"],
            credential_public_key=b64d(case["credential_public_key"]),
            credential_current_sign_count=case["stored_sign_count"],
            require_user_verification=uv,
        )
    )


# ---- python-fido2 ------------------------------------------------------------------


def fido2_verify_attestation(attestation_object, client_data_hash: bytes) -> None:
    """fido2's statement check for the format, then the x5c chain up to the W3C root.

    (fido2's AttestationVerifier does the same but refuses self and none attestation
    outright; verify and py_webauthn accept them, so here they are accepted too.)
    """
    result = Attestation.for_type(attestation_object.fmt)().verify(
        attestation_object.att_stmt, attestation_object.auth_data, client_data_hash
    )
    if result.trust_path:
        verify_x509_chain(result.trust_path + [ROOT_DER])


def fido2_server(case: dict) -> Fido2Server:
    origin = case["origin"]
    return Fido2Server(
        {"id": case["rp_id"], "name": "differential"},
        attestation="direct",
        # Exact origin, as verify and py_webauthn compare it (fido2's default accepts
        # any https origin on the RP ID or a subdomain).
        verify_origin=lambda o: o == origin,
        verify_attestation=fido2_verify_attestation,
    )


def fido2_case(case: dict) -> tuple[bool, str]:
    state = {
        "challenge": case["challenge"],
        "user_verification": "required" if case["user_verification"] == "required" else None,
    }
    server = fido2_server(case)
    if case["ceremony"] == "registration":
        return run(lambda: server.register_complete(state, case["response"]))

    def authenticate():
        key = CoseKey.parse(cbor.decode(b64d(case["credential_public_key"])))
        stored = AttestedCredentialData.create(b"\0" * 16, b64d(case["credential_id"]), key)
        server.authenticate_complete(state, [stored], case["response"])

    return run(authenticate)


ADAPTERS = {"py_webauthn": py_webauthn_case, "fido2": fido2_case}


# ---- comparison --------------------------------------------------------------------


def matches(entry: dict, case: dict, library: str) -> bool:
    if entry["library"] != library:
        return False
    for field in ("ceremony", "mutation", "format", "alg"):
        if field in entry and entry[field] != case.get(field):
            return False
    return True


def main(path: str) -> int:
    cases = [json.loads(line) for line in open(path) if line.strip()]
    print(
        f"{len(cases)} cases; py_webauthn (webauthn {importlib.metadata.version('webauthn')}), "
        f"python-fido2 (fido2 {importlib.metadata.version('fido2')})"
    )
    rows: dict = collections.OrderedDict()
    unexplained = []
    used = collections.Counter()
    for case in cases:
        row = rows.setdefault(
            (case["ceremony"], case["mutation"]),
            {"n": 0, "verify": collections.Counter(), **{lib: collections.Counter() for lib in LIBRARIES}},
        )
        row["n"] += 1
        mine = case["verify"]["accepted"]
        row["verify"]["accept" if mine else "refuse"] += 1
        for library in LIBRARIES:
            if any(matches(e, case, library) for e in NOT_COMPARED):
                row[library]["n/a"] += 1
                continue
            try:
                theirs, reason = ADAPTERS[library](case)
            except Exception:  # the harness itself broke: that is a failure too
                traceback.print_exc()
                unexplained.append((case, library, None, "harness error"))
                row[library]["error"] += 1
                continue
            if theirs == mine:
                row[library]["agree"] += 1
                continue
            entry = next(
                (i for i, e in enumerate(ALLOWED) if matches(e, case, library) and e["library_accepts"] == theirs),
                None,
            )
            if entry is None:
                row[library]["DISAGREE"] += 1
                unexplained.append((case, library, theirs, reason))
            else:
                used[entry] += 1
                row[library]["allowed"] += 1

    def cell(counter: collections.Counter) -> str:
        order = ("agree", "allowed", "DISAGREE", "n/a", "error", "accept", "refuse")
        return " ".join(f"{k} {counter[k]}" for k in order if counter[k])

    header = f"{'ceremony':<14} {'mutation':<34} {'n':>3}  {'verify':<20} {'py_webauthn':<24} {'fido2':<24}"
    print(header)
    print("-" * len(header))
    totals = {lib: collections.Counter() for lib in LIBRARIES}
    for (ceremony, mutation), row in rows.items():
        print(
            f"{ceremony:<14} {mutation:<34} {row['n']:>3}  {cell(row['verify']):<20} "
            f"{cell(row['py_webauthn']):<24} {cell(row['fido2']):<24}"
        )
        for lib in LIBRARIES:
            totals[lib].update(row[lib])
    print("-" * len(header))
    print(f"{'total':<49} {len(cases):>3}  {'':<20} {cell(totals['py_webauthn']):<24} {cell(totals['fido2']):<24}")

    status = 0
    for case, library, theirs, reason in unexplained:
        status = 1
        verdict = case["verify"]
        print(
            f"\nDISAGREEMENT {case['id']} ({library}): verify "
            f"{'accepts' if verdict['accepted'] else 'refuses (' + verdict['code'] + ': ' + verdict['error'] + ')'}, "
            f"{library} {'accepts' if theirs else 'refuses'}{': ' + reason if reason else ''}"
        )
    for i, entry in enumerate(ALLOWED):
        if not used[i]:
            status = 1
            print(f"\nSTALE allow-list entry (matches no disagreement): {entry}")
    if status == 0:
        print("\nno disagreement outside the allow-list (docs/webauthn-differential.md)")
    return status


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
