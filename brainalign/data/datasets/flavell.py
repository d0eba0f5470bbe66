"""Dag, Nwabudike, Kang et al. 2023 (Flavell lab): whole-brain GCaMP imaging of freely moving worms.

Three NeuroPAL recordings (strain SWF702) of C. elegans, 800 confocal volumes each (about
1.66 volumes per second, 8 minutes), with behaviour tracked at the same frames, and the
Witvliet et al. 2020 adult connectome (dataset 7). The HDF5 files were written from Julia,
so the arrays read by h5py are already frames x neurons.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import InvalidDataError, UnknownNameError
from ...provenance import make_provenance
from ...responses import make_responses
from .. import BrainData, DatasetInfo, FileSpec, register_dataset, verify

_SRC = "GitHub flavell-lab/NSM_5HTR_analysis @ 47bc3704c13b389d58946e3e76df359c412b8716"
_D = "flavell2023_celegans/"
_RECORDINGS = {
    "2022-07-26-31": "91ad390c64909aaab9626cac4068395eab771c7e749d291880f1797d6c8cf339",
    "2022-07-27-31": "308767b4a97af1339426d3a37facab6ee98fdbb44f11781c74819c6caaa913e4",
    "2022-08-02-31": "99cfd0e6ba506c3635a28c3402ebbfd191ef219db8005250d5f2e6fdadbf981b",
}
RECORDINGS = tuple(_RECORDINGS)
CONNECTOME = FileSpec(_D + "connectome/witvliet_2020_7.json",
                      "350b247214763fe6b5a89b76a95cc018f7551c0446ad6501bd9c4774fb05fbae", _SRC)
# option value -> HDF5 dataset (frames x neurons)
TRACES = {
    "zscored": "gcamp/trace_array",
    "original": "gcamp/trace_array_original",
    "f_f20": "gcamp/traces_array_F_F20",
}
# 1-D behaviour variables, one value per frame
BEHAVIOUR = ("velocity", "head_angle", "angular_velocity", "nose_angle", "nose_curling",
             "worm_curvature", "pumping", "stage_x", "stage_y", "reversal_vec")
POSTURE = ("body_angle", "body_angle_absolute", "body_angle_all")
SYNAPSE_TYPES = {0: "chemical", 2: "electrical"}


def _file(recording: str) -> FileSpec:
    return FileSpec(f"{_D}{recording}-data.h5", _RECORDINGS[recording], _SRC)


INFO = DatasetInfo(
    name="flavell2023",
    title="C. elegans whole-brain GCaMP traces of freely moving worms, NeuroPAL (Dag et al. 2023)",
    modality="C. elegans whole-brain calcium imaging (GCaMP7f, ~1.66 volumes/s) + behaviour",
    citation="Dag U, Nwabudike I, Kang D, Gomes MA, Kim J, Atanas AA, Bueno E, Estrem C, "
             "Pugliese S, Wang Z, Towlson E, Flavell SW (2023). Dissecting the functional "
             "organization of the C. elegans serotonergic system at whole-brain scale. Cell "
             "186:2574-2592. Connectome: Witvliet D et al. (2021). Connectomes across development "
             "reveal principles of brain maturation. Nature 596:257-261 (dataset 7, adult).",
    licence="no licence file in the source repository (public data of Dag et al. 2023)",
    source=_SRC,
    description=(
        "One recording per load (recording=..., default '2022-07-26-31'; also '2022-07-27-31', "
        "'2022-08-02-31'). responses['<recording>']: stimulus = frame (800 confocal volumes, "
        "ids '<recording>/f000'..., coord 'time' in s from the first volume, 'frame'), unit = "
        "neuron (146, 145, 130 neurons; ids '<recording>/n000'..., coords 'neuron', "
        "'neuropal_roi' = the NeuroPAL ROI matched to this neuron (1-based, -1 if none) and "
        "'neuropal_confidence'). trace='zscored' (default, gcamp/trace_array: each neuron "
        "z-scored with ddof=1), 'original' or 'f_f20' (F/F20). NeuroPAL class NAMES are not in "
        "the mirror (upstream keeps them in xlsx sheets), only the ROI matches. "
        "extra['behaviour']: DataFrame per frame (time, velocity, head_angle, angular_velocity, "
        "nose_angle, nose_curling, worm_curvature, pumping (all NaN in these recordings), "
        "stage_x, stage_y, reversal_vec); extra['posture']: body angles (frame x segment); "
        "extra['reversals']: start, stop of each reversal event (reversal_vec is 1 exactly on the 0-based frames start <= f < stop); extra['connectome']: "
        "Witvliet 2020 adult connectome as an edge list (pre, post, type chemical|electrical, "
        "synapses); flavell.adjacency() turns it into a matrix."),
    files=(*(_file(r) for r in RECORDINGS), CONNECTOME),
    options={"recording": "recording id, one of " + ", ".join(RECORDINGS),
             "trace": "which traces: " + ", ".join(f"{k} ({v})" for k, v in TRACES.items()),
             "connectome": "also read the Witvliet 2020 connectome (default True)"},
)


def _read(h5: Any, name: str, path: Path) -> np.ndarray:
    """Dataset ``name`` of the open HDF5 file ``h5`` as an array; a clear error if absent."""
    try:
        return np.asarray(h5[name][()])
    except KeyError:
        raise InvalidDataError(f"{path} has no dataset {name!r}; is it a Flavell-lab data.h5 file?") \
            from None


def load_connectome(path: str | os.PathLike) -> pd.DataFrame:
    """Read a nemanode-style connectome JSON (Witvliet et al. 2021) as an edge list.

    Parameters
    ----------
    path : the JSON file: a list of ``{"pre", "post", "typ", "syn", "ids", ...}`` records.

    Returns
    -------
    DataFrame with one row per (pre, post, type): ``pre``, ``post`` (neuron class names, e.g.
    ``"AVAL"``), ``type`` (``"chemical"`` for ``typ`` 0, ``"electrical"`` for ``typ`` 2; gap
    junctions appear in both directions) and ``synapses`` (sum of ``syn``, the number of
    synaptic contacts).
    """
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    rows = []
    for r in records:
        typ = r.get("typ")
        if typ not in SYNAPSE_TYPES:
            raise InvalidDataError(f"{path}: unknown synapse type {typ!r} in {r.get('pre')}->"
                                   f"{r.get('post')}; known: {SYNAPSE_TYPES}")
        rows.append((str(r["pre"]), str(r["post"]), SYNAPSE_TYPES[typ], int(sum(r["syn"]))))
    return pd.DataFrame(rows, columns=["pre", "post", "type", "synapses"])


def adjacency(edges: pd.DataFrame, kind: str = "chemical",
              neurons: list[str] | None = None) -> xr.DataArray:
    """Synapse-count matrix from the edge list in ``extra["connectome"]``.

    Parameters
    ----------
    edges : DataFrame with columns ``pre``, ``post``, ``type``, ``synapses``.
    kind : ``"chemical"``, ``"electrical"`` or ``"all"`` (sum of both).
    neurons : row/column order; default all neurons of ``edges``, sorted.

    Returns
    -------
    DataArray of shape (n_neurons, n_neurons), dims ``("pre", "post")``: entry [i, j] is the
    number of synapses from neuron i to neuron j (0 where none).
    """
    if kind not in ("chemical", "electrical", "all"):
        raise UnknownNameError("synapse kind", kind, ["chemical", "electrical", "all"])
    e = edges if kind == "all" else edges[edges["type"] == kind]
    names = sorted(set(edges["pre"]) | set(edges["post"])) if neurons is None else list(neurons)
    pos = {n: i for i, n in enumerate(names)}
    m = np.zeros((len(names), len(names)), dtype=np.int64)
    for pre, post, n in zip(e["pre"], e["post"], e["synapses"], strict=True):
        if pre in pos and post in pos:
            m[pos[pre], pos[post]] += n
    return xr.DataArray(m, dims=("pre", "post"), coords={"pre": names, "post": names},
                        name=f"synapses_{kind}")


@register_dataset(INFO)
def load(root: str | os.PathLike | None = None, recording: str = "2022-07-26-31",
         trace: str = "zscored", connectome: bool = True,
         verify_checksums: bool = True) -> BrainData:
    """Load one whole-brain recording: neuron traces, behaviour and the connectome.

    Parameters
    ----------
    root : mirror root (default: ``$BRAINALIGN_DATA`` or ``../shared/data``).
    recording : recording id (see :data:`RECORDINGS`).
    trace : ``"zscored"``, ``"original"`` or ``"f_f20"``.
    connectome : also read the Witvliet 2020 connectome into ``extra["connectome"]``.
    verify_checksums : check the SHA-256 of every file read.

    Returns
    -------
    BrainData with ``responses[recording]`` (shape (800, n_neurons)), ``extra["behaviour"]``,
    ``extra["posture"]``, ``extra["reversals"]`` and ``extra["connectome"]``; no stimuli.
    """
    import h5py

    recording = str(recording)
    if recording not in _RECORDINGS:
        raise UnknownNameError("flavell2023 recording", recording, RECORDINGS)
    if trace not in TRACES:
        raise UnknownNameError("flavell2023 trace", trace, TRACES)
    path = verify(_file(recording), root, check=verify_checksums)
    with h5py.File(path, "r") as h5:
        x = _read(h5, TRACES[trace], path)
        stamps = _read(h5, "timing/timestamp_confocal", path)
        roi_match = _read(h5, "neuropal_registration/roi_match", path).astype(np.int64)
        roi_conf = _read(h5, "neuropal_registration/roi_match_confidence", path).astype(float)
        beh = {k: _read(h5, f"behavior/{k}", path) for k in BEHAVIOUR}
        posture = {k: _read(h5, f"behavior/{k}", path) for k in POSTURE}
        rev = _read(h5, "behavior/reversal_events", path)
    n_frames, n_neurons = x.shape
    if len(stamps) != n_frames:
        raise InvalidDataError(f"{path}: {len(stamps)} timestamps for {n_frames} frames")

    # roi_match[k] = 1-based neuron index matched to NeuroPAL ROI k + 1 (0 = none)
    if roi_match.max(initial=0) > n_neurons:
        raise InvalidDataError(f"{path}: NeuroPAL match to neuron {roi_match.max()} of {n_neurons}")
    neuropal_roi = np.full(n_neurons, -1, dtype=np.int64)
    neuropal_conf = np.full(n_neurons, np.nan)
    for k in np.flatnonzero(roi_match > 0):
        j = roi_match[k] - 1
        if neuropal_roi[j] != -1:
            raise InvalidDataError(f"{path}: neuron {j} matched to two NeuroPAL ROIs")
        neuropal_roi[j] = k + 1
        neuropal_conf[j] = roi_conf[k]

    frames = [f"{recording}/f{i:03d}" for i in range(n_frames)]
    time = stamps - stamps[0]
    scoords = {"time": time, "frame": np.arange(n_frames)}
    units = [f"{recording}/n{j:03d}" for j in range(n_neurons)]
    ucoords = {"neuron": np.arange(n_neurons), "neuropal_roi": neuropal_roi,
               "neuropal_confidence": neuropal_conf,
               "recording": np.full(n_neurons, recording, dtype=object)}
    prov = make_provenance(
        "data.flavell2023", {"recording": recording, "trace": trace, "hdf5_dataset": TRACES[trace],
                             "source": _SRC,
                             "time": "seconds from the first confocal timestamp"},
        inputs={"h5": _RECORDINGS[recording][:16]})
    da = make_responses(x, frames, units, stimulus_coords=scoords, unit_coords=ucoords,
                        provenance=prov, source="flavell2023", name="gcamp")

    index = pd.Index(frames, name="stimulus")
    behaviour = pd.DataFrame({"time": time, **{k: v for k, v in beh.items()}}, index=index)
    post = {k: xr.DataArray(v, dims=("stimulus", "segment"),
                            coords={"stimulus": frames, "segment": np.arange(v.shape[1])}, name=k)
            for k, v in posture.items()}
    reversals = pd.DataFrame({"start": rev[0], "stop": rev[1]})
    extra: dict[str, object] = {"recording": recording, "behaviour": behaviour, "posture": post,
                                "reversals": reversals,
                                "frame_rate": float((n_frames - 1) / (stamps[-1] - stamps[0]))}
    if connectome:
        extra["connectome"] = load_connectome(verify(CONNECTOME, root, check=verify_checksums))
    return BrainData("flavell2023", INFO, responses={recording: da}, extra=extra)
