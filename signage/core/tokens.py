"""Token secrets a hall must not go live with: the shipped samples, and short ones. Pure.

    token_warnings(config) -> ["config.yaml: tokens[0].token (supervisor): ...", ...]

`signage check-config` prints these as `warning:` lines (with --strict they are
errors, exit 2) and the hub logs them at start. The samples are kept as SHA-256
digests of every token in the repository's config.yaml, so the list can't drift
into a second copy of the secrets; tests/unit/test_tokens.py checks that it still
matches the file.
"""

from __future__ import annotations

import hashlib

from signage.core.config import STRONG_SECRET_LENGTH, Config

SAMPLE_TOKEN_SHA256 = frozenset({
    "0463f37e54ff4122cd72814557c59b9b62f395e5aa7ec8e7da9041b1cd49ae3f",
    "0c366834c6dbbaaa34b6b0b9956462bc83fb5b3d5687d211b716bbed1b64832f",
    "0ee58f6d830ea4e1fbc222e93375639b25a047647ec95cdf8a579fd92fbec149",
    "12ad69f37ebdb43e584ae4418ca09f1e47f13591e20a6df4182d621de0ef818c",
    "1b0019c1f4ee839ca48b09f18d1bb31ca5398033797a9266029f8f34d7153226",
    "1c5fce3cf76e11cc803139f91e143b88079d323310e293682e491bfbdd70c6ad",
    "2a6f28d636f2867fc4a1c658fab6bc084efc6cb41cf9be85da571659abfe0f7a",
    "2b22d1c78260b4a26fbf820dd8a7c648f2bdfc93c5f2810985c7ff352bdb161b",
    "379a08cb1ece2ffbeef864983f244fdf26a69c55ce5350e4178c76800764510f",
    "4831085226625e0e7d7dd8085e8326ffbe70e2fbce4dd98e66f6ff50fdf6d470",
    "4aa3e5f2df62f624bfd5b666097eec944e62d35eb8c02f9e8465b420727eb612",
    "5563ce55a10fa96a0b6ae642e4d5e3ab0a2bf4f3bb129e7f3d952c6412bf7ecd",
    "597658b36bc49cd7d7a7e3d59a5112fb0df99115d22edb07f21180e5e5c1d237",
    "6bebf1d88251d56bca416eb02402a57d78d4600ebd250978cba400df3010b9ab",
    "7431b6a50d3ee79c5b13f20138dce4b243e302641e004e8af84ad72fdfad9886",
    "7c08221cf365999d79b4e03e7d78881a70db410d004f61068a56879282c3110a",
    "8a3fc9dfbaaadb5713bd09ee89e8cded5169403e9aa2c7c2a013334cf5ddb6d8",
    "8f2c5e9d3a1afda783d1d4e4dd8bb6a47420a7d011750452cd8b8565f8a8e277",
    "90607e36e19ef47742cffabb7bed0e112ac560cf0e5cdb0246b4b4fd4fe4a424",
    "91c9d3bfc0b40968cb4bb3287315539cb88a08dd3b275483e74626f54c71750a",
    "a3ed75fac2429251bf1bfbf1b09cbb3590bd223236b993dc35cf0133f30430ec",
    "bf70682d7e8c869425dc438e274fc9e77b12cc96aa65789f95ffff319862f756",
    "c8a651f5df276f0963f5ef1d39c9d197d898d2a486a7e2b859c07a19771f4d9b",
    "cfa32a1ec3050b4704443c10d392a199f948b9acdaa710f205f2deacd0b97bd2",
    "d989b19db093142a7b9de126df24ceeeff9a71aa473bc9f224149291b80e1dae",
    "f5861c2af04a02b2fa8f9b003516ccade4d3e6265ea72001e5c7fa265ba60e6e",
    "f5c2148430cf359f29e0494af8f9cb426cc89f7c9c5afd60220319e55ccfc9a3",
})


def is_sample(secret: str) -> bool:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest() in SAMPLE_TOKEN_SHA256


def token_warnings(config: Config) -> list[str]:
    """One line per token that is still a shipped sample or shorter than STRONG_SECRET_LENGTH."""
    found = []
    for i, token in enumerate(config.tokens):
        where = f"{config.path.name}: tokens[{i}].token ({token.name})"
        if is_sample(token.secret):
            found.append(f"{where}: a sample from the config.yaml shipped with signage (public): "
                         "replace it before going live")
        elif len(token.secret) < STRONG_SECRET_LENGTH:
            found.append(f"{where}: {len(token.secret)} characters; use at least {STRONG_SECRET_LENGTH} "
                         "(e.g. python3 -c 'import secrets; print(secrets.token_hex(16))')")
    return found
