"""Kriegeskorte et al. 2008: 92 object images, monkey and human IT RDMs, behaviour."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ...provenance import make_provenance
from ...responses import make_rdms
from .. import BrainData, DatasetInfo, FileSpec, StimulusSet, register_dataset, verify

_SRC = "GitHub rsagroup/rsatoolbox @ f1f83cadb7243492a1aae7460466e0f0140b20ac, demos/92imageData"
_D = "kriegeskorte2008_92/"
FILES = {
    "supplemental": FileSpec(_D + "Kriegeskorte_Neuron2008_supplementalData.mat",
                             "06f21214399a5d43dc264eed19a7f4b8daf11c8622a59eec3e106064ce5e3504", _SRC),
    "brain": FileSpec(_D + "92_brainRDMs.mat",
                      "1743f90a15e895798a94318649e80e1123a7e5943a1703fa1dd7c31ea5780b7c", _SRC),
    "behav": FileSpec(_D + "92_behavRDMs.mat",
                      "7a8e118c144c3840adeeeef6ea0706a0be2b3e80df719af15fbb56fc62562f5f", _SRC),
    "models": FileSpec(_D + "92_modelRDMs.mat",
                       "e1d2b58bb2f9508bc13da4c81b94d1ab07823b25ed30b9563bd9d6d730c2a00a", _SRC),
}

INFO = DatasetInfo(
    name="kriegeskorte2008",
    title="92 object images: monkey IT and human IT RDMs (Kriegeskorte et al. 2008)",
    modality="macaque electrophysiology (674 IT neurons) + human fMRI (316 IT voxels), behaviour",
    citation="Kriegeskorte N, Mur M, Ruff DA, Kiani R, Bodurka J, Esteky H, Tanaka K, Bandettini PA "
             "(2008). Matching categorical object representations in inferior temporal cortex of man "
             "and monkey. Neuron 60:1126-1141.",
    licence="MIT (rsatoolbox repository); data from Kriegeskorte et al. 2008",
    source=_SRC,
    description=(
        "92 175x175 RGB object photos with 12 binary category labels. RDMs: 'it' (monkey IT, 674 "
        "neurons, and human IT, 316 voxels; 1 - Pearson r), 'hit_subjects' (4 subjects x 2 sessions), "
        "'behaviour' (16 subjects' similarity judgements), 'models' (8 reference model RDMs)."),
    files=tuple(FILES.values()),
)


def _loadmat(path: os.PathLike) -> dict:
    import scipy.io as sio

    return sio.loadmat(path, squeeze_me=True, struct_as_record=False)


@register_dataset(INFO)
def load(root: str | os.PathLike | None = None, verify_checksums: bool = True) -> BrainData:
    """Load the 92-image set: stimuli, IT RDMs, per-subject hIT RDMs, behavioural and model RDMs."""
    paths = {k: verify(f, root, check=verify_checksums) for k, f in FILES.items()}
    sup = _loadmat(paths["supplemental"])
    labels = [str(x) for x in sup["categoryLabels"]]
    vectors = np.asarray(sup["categoryVectors"], dtype=bool)
    images = np.stack([np.asarray(s.image, dtype=np.uint8) for s in sup["stimuli_92objs"]])
    ids = [f"obj{i + 1:02d}" for i in range(len(images))]
    meta = pd.DataFrame(vectors, columns=labels, index=ids)
    meta["category"] = np.where(meta["face"], "face", np.where(meta["body"], "body",
                                np.where(meta["natObj"], "natural", "artificial")))
    meta["animacy"] = np.where(meta["animate"], "animate", "inanimate")
    stimuli = StimulusSet.from_arrays(images, ids, name="kriegeskorte2008_92", metadata=meta)
    scoords = {"animacy": meta["animacy"].to_numpy(), "category": meta["category"].to_numpy()}

    prov = make_provenance("data.kriegeskorte2008", {"source": _SRC})
    it = sup["RDMs_mIT_hIT_fig1"]
    rdms = {
        "it": make_rdms(np.stack([np.asarray(r.RDM, float) for r in it]), ids, ["mIT", "hIT"],
                        rdm_coords={"species": ["macaque", "human"], "n_channels": [674, 316]},
                        stimulus_coords=scoords, dissimilarity="1 - pearson r", provenance=prov),
    }
    brain = _loadmat(paths["brain"])["RDMs"]  # (4 subjects, 2 sessions)
    subj, sess, mats = [], [], []
    for row in brain:
        for r in row:
            parts = [p.strip() for p in str(r.name).split("|")]
            subj.append(parts[1])
            sess.append(int(parts[2].split(":")[1]))
            mats.append(np.asarray(r.RDM, float))
    rdms["hit_subjects"] = make_rdms(
        np.stack(mats), ids, [f"{s}-{k}" for s, k in zip(subj, sess, strict=True)],
        rdm_coords={"subject": subj, "session": sess}, stimulus_coords=scoords,
        dissimilarity="1 - pearson r", provenance=prov, check=False)
    behav = _loadmat(paths["behav"])["rdms_behav_92"]
    rdms["behaviour"] = make_rdms(
        np.stack([np.asarray(r.RDM, float) for r in behav]), ids,
        [str(r.name).split("|")[1].strip() for r in behav], stimulus_coords=scoords,
        dissimilarity="similarity-judgement dissimilarity", provenance=prov, check=False)
    models = _loadmat(paths["models"])["Models"]
    rdms["models"] = make_rdms(
        np.stack([np.asarray(r.RDM, float) for r in models]), ids, [str(r.name) for r in models],
        stimulus_coords=scoords, dissimilarity="model", provenance=prov, check=False)
    return BrainData("kriegeskorte2008", INFO, stimuli=stimuli, rdms=rdms,
                     extra={"category_labels": labels})
