"""Cowley, Stan, Pillow & Smith 2023: macaque V4 spike counts to natural images."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pandas as pd

from ...errors import UnknownNameError
from ...provenance import make_provenance
from ...responses import make_responses
from .. import BrainData, DatasetInfo, FileSpec, StimulusSet, register_dataset, verify

_SRC = "GitHub cowleygroup/V4_compact_models @ f4552ad9d34a466ebc66658f72a08a8e5038f1cf, data_V4_responses"
_D = "cowley2023_v4/"
# session -> (sha256 of images zip, sha256 of repeat-averaged responses)
_SESSIONS = {
    "190923": ("e99a4df1c7476bdc4d565ff4408bc421976ecc3a22c41af6bfd0cfbddb508c0c",
               "741672d36541ce39930c8a3b5bd1cfd33c187aa47b1549c9c5569bc21aa97a28"),
    "190925": ("765b4d4372302d4ed72c3382d41ece5ca55d7dcc3d84da7402091253529b87d1",
               "2f94d7bcef0f68fecdb7472f509737fafac92477cf6b11a4966162b1b1072529"),
    "190927": ("d2469cc2caa629d4ed38e8d4964fb1de8c0b29e9937c25ce1c5838bc4e382653",
               "4c3c75ec72bc4bd3f0e22987a7b2e7e962af249d6577e8a6d727ea9075bde034"),
    "190928": ("6d90fdf2341e038beb57c16ce85f48c3a2bdfd450bc1c6440489529aead0f161",
               "41707e2d31ace45da6d181ad28a91c299971d42430c91cc738602523e7d7eda6"),
    "190929": ("7fea6a28c092acfa646145813f532b2ea1d5a22a0b1bdade47d392b8f6bfb3f0",
               "18639c9e2b2baed54c4fb22e311d84dafbd986a12069370b1004880a721d2c4a"),
    "201025": ("3abb63679107665eab7220bdeaf7863832a1df943bf3d7792501f5082a55b2e8",
               "f729f3dc0d29aa38bd380c0da9e39aba916f9e2580949929b65d1714e7217a8a"),
    "210224": ("e2690810bee34c2e2821e5dd504c7970f3441579bc57659f27d2c11678b52c6b",
               "4dbb7367707a5ca47ab4cea863bbf4e9765b8409cb30216693721bddfad7abfe"),
    "210225": ("79bfb1066949a7f7bbd3c632ab420c2230b966b80cade76593d8745aea49b7f6",
               "853f196247504fa2526b507f56ee5237711ed166f295f7cb23ec5441a7bf789b"),
    "210305": ("9fab651e9c2d0b44091c2ea238c78d68fedf573cd7d4ae6b0545c5d84c121776",
               "00dce8d39558bfc3f5dd55c6f678c05de1b63895d56193379fd7dfe41fc703f0"),
    "210322": ("a72f357c73381fc6e496403820b38abe38c78b92f6d1c0b7153d6fe6d3986c32",
               "1d643594633c7ad6d5281147bf1742275135507c8b283550e00e7028c65a5373"),
    "210325": ("992774eca3508a2ad01accb1a31f5f3e3d90248c49f4eec314f2a915a263e454",
               "555e67037182611969ab90da291dcc39601de4411f651a64ad60e90572cf59d3"),
    "210621": ("aff4d1639a04fb0d964ee09f8e76b07707e8435283c8e0ea47b0fd398ffcc233",
               "28e57e8eefe774b455087a62f039931b9547b2300908a0af85eee5baa49aa1ba"),
}
_RAW = {"210325": "4008dbbf31a47d9b1b8d8da609f4a7a3433c7071f0e45c611c220b217dd75b76"}
SESSIONS = tuple(sorted(_SESSIONS))


def _files(session: str) -> dict[str, FileSpec]:
    zsum, rsum = _SESSIONS[session]
    out = {
        "images": FileSpec(f"{_D}images/images_{session}.zip", zsum, _SRC),
        "responses": FileSpec(f"{_D}responses_repeat_averaged/responses_{session}.npy", rsum, _SRC),
    }
    if session in _RAW:
        out["raw"] = FileSpec(f"{_D}responses_raw/responses_{session}.npy", _RAW[session], _SRC)
    return out


INFO = DatasetInfo(
    name="cowley2023",
    title="Macaque V4 spike counts to natural images (Cowley et al. 2023)",
    modality="macaque electrophysiology (Utah array, V4), spike counts in 100 ms bins",
    citation="Cowley BR, Stan PL, Pillow JW, Smith MA (2023). Compact deep neural network models of "
             "visual cortex. bioRxiv 2023.11.22.568315.",
    licence="GPL-3.0 (repository)",
    source=_SRC,
    description=(
        "One session per load (session=..., default '201025': 89 neurons x 1200 112x112 images, 12 "
        "repeats). responses['<session>'] is repeat-averaged (stimulus x unit); sessions with raw "
        "repeats (210325) also give responses['<session>_raw'] (stimulus x unit x repeat, NaN for "
        "missing repeats). Sessions with images: " + ", ".join(SESSIONS) + "."),
    files=tuple(f for s in SESSIONS for f in _files(s).values()),
    options={"session": "recording session id, one of " + ", ".join(SESSIONS)},
)


@register_dataset(INFO)
def load(root: str | os.PathLike | None = None, session: str = "201025",
         verify_checksums: bool = True) -> BrainData:
    """Load one V4 session: images (lazily from the zip) and spike-count responses."""
    session = str(session)
    if session not in _SESSIONS:
        raise UnknownNameError("cowley2023 session", session, SESSIONS)
    paths = {k: verify(f, root, check=verify_checksums) for k, f in _files(session).items()}
    with zipfile.ZipFile(paths["images"]) as zf:
        members = sorted(m for m in zf.namelist() if m.lower().endswith(".jpg"))
    ids = [f"{session}/{m.rsplit('/', 1)[-1].rsplit('.', 1)[0]}" for m in members]
    stimuli = StimulusSet.from_zip(paths["images"], members, ids, name=f"cowley2023_{session}",
                                   content_key=_SESSIONS[session][0][:16],
                                   metadata=pd.DataFrame({"session": session}, index=ids))
    avg = np.load(paths["responses"])  # (neurons, images)
    if avg.shape[1] != len(ids):
        raise ValueError(f"session {session}: {avg.shape[1]} response columns for {len(ids)} images")
    units = [f"{session}/n{i:03d}" for i in range(avg.shape[0])]
    ucoords = {"subject": ["PE" if session.startswith("2") else "WE"] * len(units),
               "region": ["V4"] * len(units), "neuron": np.arange(len(units)),
               "session": [session] * len(units)}
    prov = make_provenance("data.cowley2023", {"session": session, "source": _SRC},
                           inputs={"responses": _SESSIONS[session][1][:16]})
    responses = {session: make_responses(avg.T, ids, units, unit_coords=ucoords, provenance=prov,
                                         source="cowley2023", name="spike_count")}
    if "raw" in paths:
        raw = np.load(paths["raw"])  # (neurons, images, repeats)
        responses[f"{session}_raw"] = make_responses(
            raw.transpose(1, 0, 2), ids, units, dims=("stimulus", "unit", "repeat"),
            unit_coords=ucoords, coords={"repeat": np.arange(raw.shape[2])},
            provenance=make_provenance("data.cowley2023", {"session": session, "raw": True},
                                       inputs={"raw": _RAW[session][:16]}),
            source="cowley2023", name="spike_count")
    return BrainData("cowley2023", INFO, stimuli=stimuli, responses=responses,
                     extra={"session": session})
