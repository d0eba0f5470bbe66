"""Brennan et al. 2016: fMRI of 6 language ROIs while listening to Alice in Wonderland, chapter 1.

Files: ``brennan2016_alice/alice_data_shared`` (ROI time courses, per-subject nuisance regressors,
linguistic predictors) and ``brennan2016_alice/alice_stim_shared`` (word-level TextGrid).

Timing conventions (checked against the data, see ``docs/datasets.md``):

- ROI time courses, word rate and sound power have 362 rows: row ``i`` is the scan at
  ``t = (i + 10) * 2`` s in TextGrid time (TR = 2 s; the first ten volumes were discarded).
- Motion parameters and the 12 linguistic predictors have 372 rows (all volumes): row ``j`` is
  ``t = j * 2`` s, so rows 10..371 are kept. (The predictor ``rate_conv`` then correlates
  r = 0.98 with the per-subject word rate; any other shift gives r < 0.81.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ...errors import InvalidDataError, UnknownNameError
from ...provenance import make_provenance
from ...responses import make_responses
from .. import BrainData, DatasetInfo, FileSpec, StimulusSet, register_dataset, verify

_SRC = ("GitHub daandouwe/Thesis @ ec54039b6ac5ad7bf8c81b91768108e5be5c1ce0, "
        "brain-data/syntax-in-rnng/")
_D = "brennan2016_alice/alice_data_shared/"
_S = "brennan2016_alice/alice_stim_shared/"
TR = 2.0
N_DISCARDED = 10
N_TR = 362
REGIONS = ("LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG")
RADII = ("6mm", "10mm")
MOTION = ("motion_tx", "motion_ty", "motion_tz", "motion_rx", "motion_ry", "motion_rz")
PREDICTORS = ("rate_conv", "frq_conv_orth", "break_conv_orth", "tdp_conv_orth", "tdx_conv_orth",
              "bup_conv_orth", "bux_conv_orth", "cfgsurp_conv_orth", "bigramlex_conv_orth",
              "trigramlex_conv_orth", "bigrampos_conv_orth", "trigrampos_conv_orth")
EXCLUDED = {"s33": "constant time courses (standard deviation 0 in all 6 ROIs at both radii)"}

# subject -> (sha256 of 6mm, 10mm time courses, rate, sound power; motion file name, its sha256)
_SUBJECTS = {
    "s18": ("0c286ab2c70fa71e4bc68eabaa4421ed18f54f06e8bab55cc83bb471b02fefaa",
            "12c2dfee94d656c9e3f73dcfba2e28cfa80369318deab6ea43568b1906b335f8",
            "bdd7b6eff8f9866c69fd190eb338ae60699300e1badb79087c08ecb2e5b53e62",
            "55aea9caa1eeafb20221bbb7822e48ee6998e20f171913203132ee11e3bf4dd1",
            "s18-rp_epiRTwm2_scan_0004__003.txt", "efd5fc39f149267ce3ef670671c06dce0fced5b88a8f0a0ac3050daa91ee80d6"),
    "s22": ("e340210515ded59ea1ffe30bcc2fddd216d7c179015bf9afbfe3f8195313bb5e",
            "d58efaf42b4be5faa71b4f5f9d82fb2caed563f090224cc7ecd089249b688acf",
            "b9d58a6f90cf216511ef98ba060f4bd94bbed5b8f4c9b0ccf0fcefc3f5c5eda9",
            "cbc491d17465e1cd07792aa9286efa8cdb7c7e140383639693996ddc15b93fed",
            "s22-rp_epiRTwm2_scan_0004__003.txt", "ac42ce7802de0d5d8dd44ef6770c40d091366b6f06656cddbc49935393a3d121"),
    "s23": ("30c1d4a9fefa128d378b39692b54f8916518b7a256a771d609b0e4ba481a4ab1",
            "20857b0c0364a8c31ce41ca797951a8982136faa223bc26f036ac51f440fdac8",
            "53851a1c2f6c5ef5de44609274755dc10d6c089201417e99a2a3d48c2dcff6cd",
            "ddcdf86378a269fea3f79efac09d7f47c23d0adabe3ca12f301eb6fe452f518f",
            "s23-rp_epiRTwm2_scan_0005__003.txt", "2861fbfd74b91b0737644e70d47b4d31473aa02501d8308ac140c7b32765ee83"),
    "s24": ("928a6ca603ffd1f8e9491efec5d2d7ee36bbc578bd580e78bfaeb660569ae672",
            "af4f11fb7801c5ce921cbab254f86dc04fc00b4968c84c5a3780998b6f35f153",
            "cf9c400f3d725e3c193b7f644cb1b66ff8d6b845aa3cfd919d84543dc202d2a9",
            "d87e5a776d8ffc527942c81894ef591c67d65d51679b78d0dec0e5b8a362cd75",
            "s24-rp_epiRTwm2_scan_0004__003.txt", "69df8d4d5686fc03048c9aa08963220cc95a68bf4104e0b6cb48b8f6c8accbdc"),
    "s26": ("7bd4bdda8fc9e553ecfb9c3c285d32c6b50dc0780aaa4bb04f5c7205f8b27aad",
            "5d224b5be98d1e7e9f85513fa1d4537476a06c07ad710aa0a3dcf20e53164b66",
            "dd721eaaddd0f21b538edb20e1fe4e84a1f4bc6739730e8eaa093575a59d6d4b",
            "1a52026c0953fe3b815bc48db27969d8efe1b549c3e8878d7941953c1bfc8b89",
            "s26-rp_epiRTwm2_scan_0004__003.txt", "55559b4f111bcffc59f1f8ab151e42ba0d02d37d8809a321124f6fd096f807ee"),
    "s28": ("4a2a6bb2417060cd9764c799016018df77ec913f0854fe9ba2af7e5579d986fb",
            "b41075472475d8fbd1cdf57bc0b2f5dfa4f4e50631316405fe940149602f94fb",
            "cb9bed895852f0f4a9ba99a73523545623545283fb294fb926d42f7959ccac92",
            "40b525098603a01fc368bff947932bc21d9a787b23eb5078a0ee6f1ba96d180b",
            "s28-rp_epiRTwm2_scan_0004__003.txt", "8d17575597035f6400e149a62a362917b93e926e613de65ca361aeeebf94086e"),
    "s30": ("85f565a3de9137c230291f74f24dd594df3fbd9230e4578a4e6c856dd017ab45",
            "789381736590af201af6945356507d7404331a5e7bbbe15ea369e1f8f6bf5dab",
            "a4f5d3b8fa98091d6dcb8f657e6df657a7de57f5510ab0591b571fd04309cd21",
            "2e6a1ed10ef6c9c7b9a07f709393594c4cb02d55e6a1e8ffc76c251618f75d08",
            "s30-rp_epi-s30-obl.txt", "5ea338fc6a064e3b14fe50d0b2be8b22f181998cb2988b67bb288f1ea92281bd"),
    "s31": ("b3c99e9e0636dc5679c2b27c40c51bf54d0c21423faf6c2c0b8c9e3911bbb891",
            "5755385b5f0cce45ce67233243dbb03c366079a4a6ef5ba66b4454a35ca8ffd7",
            "27033f2c7b08a734c6e652b4b9959f0115476d218bb0550282a7416b321c3db8",
            "7026dd15d708b06dc478e70dab5a3cd1158e13a2a55470c98be6930418ed789f",
            "s31-rp_epiRTwm2_scan_0004__003.txt", "53a28eef1ce4b588685dc59cc9795c4c98537ee3dfdf8389b8323d3c81b03b61"),
    "s33": ("6fe19447cd790deb4171814e2b5d55d958997642bc479d13f7c40d03aeebd7c4",
            "6fe19447cd790deb4171814e2b5d55d958997642bc479d13f7c40d03aeebd7c4",
            "7255967b7be83537225001e01bc908bd50cf1544d4f723de3eafed86d7b10d30",
            "7255967b7be83537225001e01bc908bd50cf1544d4f723de3eafed86d7b10d30",
            "s33-rp_epiRTwm2_scan_0004__003.txt", "9e1370fc6a2f34c88599e9b618692a21a180dd045ec3c3d6afef0ee322a4e357"),
    "s35": ("1fbc985acef8b68f4594fb6d70be7d57857689d7f1516cb4526dd4801092e51f",
            "7b9db41b6c253740fff52ef36e604cbfdca553ddb92f640b9817e526723eaf34",
            "cf9c400f3d725e3c193b7f644cb1b66ff8d6b845aa3cfd919d84543dc202d2a9",
            "d87e5a776d8ffc527942c81894ef591c67d65d51679b78d0dec0e5b8a362cd75",
            "s35-rp_epiRTwm2_scan_0004__003.txt", "f5da384216e2430e8fd72bf3d20abf21691775e80c66990736888c537fc0ec95"),
    "s36": ("8ab0864cf176fa3bc3ef1776764db7e42e82ba4ce697aa9a68fb590795749ddc",
            "4da33ce80863d72f3a26f37a579f44e74d15e2555a27ce05c9345f8a3141e36e",
            "3878c9ce2bf6c3bc96abcb0b128625a0d8300224352c65e5a9b47f165bd0946f",
            "25d854b128c45cf5af96d7e5a4270b061915a53317b823c642308cff00c5ff4c",
            "s36-rp_epi-s36-obl.txt", "f46f1713dbd48ff4a9a4a503f6ad7509056a0fd7255762e0df446e6d30f5bc56"),
    "s37": ("5af32f59eaf44a582265869085a9dbf4e042a391a6933e74f7d2933a5ca0ba82",
            "8f188106f1ac656a778d2b548ff30fd5cc9247ffbb3151a808d0985cca3fed16",
            "038057207f933db5bce0fccccb08b28d5c16bd60dfbfc4a7fc4d86d124cb03d2",
            "a1a5e432d85135f72541c0c5d2976d41062654b9c67b44f8665a5fa44a8b2475",
            "s37-rp_epi-s37-obl.txt", "c553e6222efe3cf00c82d4f1e495c8cb480547bfb6ad0fa69b330afab478894d"),
    "s38": ("77c09557720d25504ce4cdde8a5c9fc4c94c74389e9f8de33d0b0f1154ee2ce5",
            "85951160df6a3e9c2ec668386a3dc869ed8b119ad6c5a16bb55688388cd30c17",
            "ef33c2b9f13008dd935d9bd9e301686a6a821eb0660d38be9bb96fdb0145af58",
            "9ee39ce304043b9550975ef992de886683ebc3fcc1576257e607e57ea85ab6a2",
            "s38-rp_sYW140501_LC038-0004-00001-000001-01.txt", "3381f4ab0a59fc1dbb3046fce499920c77d9229f9141ed6812f57139cdbf8b1e"),
    "s39": ("635a838c1b788b37b0cf0161a8c00a32b81b4dbe2bd0000f47010625b855150e",
            "0859bd202d373fd03a5461613110f5177233b6f636155d6f0110565b73c0b469",
            "f0535e08491d707bcbf3db6d298d7eeca2a4571aea139947e3226aaf4d2af8ee",
            "b4933e1056a9a157c1dddae8ea7094b5ca663cc7b0141fb7dd4f55023c3a081c",
            "s39-rp_run05.e02.txt", "b019f76f88d6da3350f3f3b5b80249923eebbfc3041f979facad81c4de31c6cb"),
    "s40": ("8da36539f93677cd6d97b8c060c4ed083431e0416f674805636aecc038589ec9",
            "5512aeeb751f8d3e19ed7695cc98ac564e6381708d36c0dc8017ce7360cd8fa8",
            "f22e72ff5d84a04533e4ef838a4c70cf96cfd4211cc2ca08702a7c274f27568a",
            "efab3216d8c08fffee71129884a4e4d96834652a22f08221141d20ff1bc797b8",
            "s40-rp_run05.e02.txt", "c3f4da2a537408466eb2e48c43294524c98fa9b6cebd94ba5a5abe8b909979d0"),
    "s41": ("d320ecf3661d6c4d8d8aada90578c77a3e376184abae35ad2114f6ce56a19cef",
            "6de0713b151422d5bfb80e72691c3451dbc5ec9bf214e7e9b8bb2b0031d8f012",
            "4600f5125db3aa33a7db291978df4379ca189b82a09340db435ae381899e8da5",
            "8bd524068f6f1a3fc7e775fd1230c4fd88a1ef9f2afde4e19c201fb3cc72495b",
            "s41-rp_run05.e02.txt", "4041ec8a149639d6e7351aedf64e3e81eab5bba48f5cf7281bcc090faccddf5a"),
    "s42": ("d44d44ff34784c0d2a8ced6a6782ca93014fe90a1e80dbcb808a9b93a694b4b6",
            "c7bacb0f7462a41d7834174ca4898107ef880d7a531f048b5006b277370d43ac",
            "0288c45c7c22809f782309dd6073bc3e9c7cc4e7be9e835f7d021993c145fc65",
            "bc4f71363cd35f405b223b5a2cf41ff5e9816fad9807fff09e3937f8bebdf1bb",
            "s42-rp_run05.e02.txt", "ec49730ef759f88bf5654b063ac81b00d182e2cb10e820032076a000e0bdc091"),
    "s43": ("41ecea7dd52766c67d783540fa3696b40c6115fed2a88d328b16d6d896a0d969",
            "cd21bcf718a33402127f63bb7dcd6058f2b13478d96b2a3e8bcea1d92e4a0703",
            "bdb916156108d294db90a6bd68174eb72bcb0f0f5232112e11d9ad7a5c5cac3e",
            "9d0780372b04dfde5be6aa47686fbd973f9650feba82c5855362a401b68524c9",
            "s43-rp_run05.e02.txt", "3c0fa19d57ee9e9829f693c5ed64b1a8aa5caa78780cfe58e63e511eaade2564"),
    "s44": ("f251062ccf4a7ba2fe05cc12a9345ec4a38fee9b64e522d1f110248794132eee",
            "eb5eaa6ef4c439c21fea8441cdcb7a269b36ba6f825cc44622404d5cbb530668",
            "d6e8c5dcd8fa74a80b8bd6b71201929bde6c57abc8196960cda333b95962358f",
            "6ba7453627146aaf5fbbd43eac408730ecec072e2ebacd675a2264c2166ca56d",
            "s44-rp_run05.e02.txt", "eadc0e16cfbe335ef7e3dcfb9d173a8907f6cfbdc7d7c6f2b23df9626ef5702b"),
    "s45": ("477283d63de715c2e76515fcf8d9f516835e6adc2eaea56dd9cb81d21d7fcaaa",
            "7f31bea4da79dff105f907e2476036aea9962fb421931ece1d4bdce7393aadbe",
            "a1dbc8305d7a52f2a796e84d9f1b30c15765c77d977d2e28fa118fca174f0a1f",
            "2fdbd987b03e63bd09661f3d039587589564f2808f9405cd4b8184b8f1f24d26",
            "s45-rp_run05.e02.txt", "0a80452264779f113d71a6483f2f32226e7de8f429105603a063e66cb06b8a74"),
    "s46": ("571562d39082c49ec853bc8ea80040cd2ae6f98049f6a250b4fdd7b4060e46f9",
            "99b59482110ae20ba1505bddbf6de0ee55c465263173dad43e53939d42ce7d97",
            "082d13d71df42ba1ed8b489201bb0a91d025e9ffefcc56fe86c1b66906d7833c",
            "2da02781de699fba284729c64bca02c3c32c023b0c9f750cba7caab09454babd",
            "s46-rp_run04.e02.txt", "5579bfd0ea5f80e9170fbd2fe888c99dacb12720ea2d1ae6f7ed55103e534b94"),
    "s47": ("44791bc9e3170f566bf41d60fedd71ef3911e052e35165d209d0463ebb11acd8",
            "4eba0d95942e29074921f081b61d76091605d91fb237f21ab884a35fbb6bc8b3",
            "e7589a294b0e1497fda043241135a4d1ebd6b975f543a248d55a1d638b5da787",
            "f54f3b0dff1991617444e3f34637656242b7e0e92deb195c9111786919551fb2",
            "s47-rp_run05.e02.txt", "756f923559b4d4f1232d84ed9cd03a65fd8d135f1e56e066150e89f0427d7cac"),
    "s48": ("3e74bc754645204e373262f0437c077c6b879c8d40c323af0e29990d1671e5bb",
            "921f4a7751837064d09c392be7f7ea127f98e1e2593f334478b5538bf62e28a0",
            "0cf8b1e9a81c5b7b7f5bc771777508a9916190d8379d027f2927f15838c83f16",
            "07cc17c8244c85fa1b53ad25ca035d4b114cafb8d18cdbfc45c82e56a1b8817d",
            "s48-rp_run05.e02.txt", "5e7d9f88b2f70e8e11c7b9039add2b417a96c2975a6e950b2580dab8cd45e111"),
    "s49": ("c390fbe98d8b7de34bbd9b2216ebc517a1e68b90879c419b485671dfbaaa88d1",
            "13509ee9a7a58bc6c4470df7dd03cfcca7b117fb43d1b518e850c3a527902186",
            "fdd2927c5b561981f9ce77ca06a3a30438d580c26730b49b9d2e06f5ca02e137",
            "643b9e2af4be692eff5af8c06a1c72d90c4ba7bf9aa6e37cf594b74ec90301da",
            "s49-rp_run04.e02.txt", "6daba550f5cbda707b8f462bfa3afc677f691659f7c393e262458c738edee682"),
    "s50": ("550909cba09a7e43898351c40ae6db54f9ece0f0abb1a8bb9ed0ad96c53a5000",
            "7866c5aab74a2a20ddf8189d0717514577f63896ab64965ba2cb8ae07d698396",
            "76aa53eae686096fa0d6ea596f022d4fad9731e2e684fc6ca582a25c55be57f3",
            "a2a88e9ded203631ba6c89fb7ec6d98f41aab61538a0a36b6ef6631e601824aa",
            "s50-rp_run07.e02.txt", "3c89f97cbf65b7930e48448fd515451372dc6d9fd350d8a358eaceef9df3ff06"),
    "s51": ("302e2d8085810256ad829314dbcb7f81186ab3ee16172648c0c91fda742fc25d",
            "841e09a0a0502c8040610170b4ff63f09581755eed8b4073e1d89719ed755433",
            "2e3f656a9d582b812f90fb764d832178cf01fac84215c135d2c87c0a593a7115",
            "291d89be18aaf8cd4b8e92931929be20d27c1a6ed2dced0e2bd5837244cc03d9",
            "s51-rp_run05.e02.txt", "870b464c539b7bd6a509d09774d8d547e6746b67fb4ff83a7b607b15b6555347"),
    "s52": ("65c8812b757b7f747f6750a8d980342c02aa2059e70a5fdacbcf84bb38ddff99",
            "ccc5f9b93b69abb2cffeea0f85e84ee149a2c596b6f8bc9fd64e9af6553d2bd4",
            "a9c5d2498b3fdfec53efdb805fe43f35f32c5ac69850671b849eb23d00527f14",
            "a2829af7d4e4af723cb661646e17f02fe6bce8f70b5a2fc2ae59c605faeb0511",
            "s52-rp_run05.e02.txt", "4e93c8146b0bd92f22ee0c9439d712ffc5731b983304c7d3f67618d9d7223382"),
    "s53": ("0a7f1db27c50c71e162976800e36836a3ee5cb9e4540816c0527d534e8af9822",
            "b4aa64474dcb6a17184100b9e840ac3baba5aebad23f8ad5828534aad2d24b81",
            "76ddbc6029427a1eea6ac4c9d9db4a2f0883ffc8a0897de723029783b9e540e5",
            "5ef7feca5405dd9a228ef41d75c749e82276c1b89a2fab3aa9bc43ce4a233205",
            "s53-rp_run05.e02.txt", "714c3374418623fbcae33077f72bec0b37ccf70e842564b8e395f9e1c72bde59"),
}

SUBJECTS = tuple(s for s in _SUBJECTS if s not in EXCLUDED)

_COMMON = {
    "textgrid": FileSpec(_S + "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid",
                         "f42484c61db089132eaa0ed633468f04709669b89bbfbc712282c1478e2bd6b3", _SRC),
    "predictors": FileSpec(_D + "sept18-generic-predictors-under-hrf-with-logfrqhal.txt",
                           "0b3edb01e8531aed8091b13e4f46cfdf630e0ec21b8758b54076de5c56f028e4", _SRC),
}


def _subject_files(s: str) -> dict[str, FileSpec]:
    t6, t10, rate, snd, motion_name, motion = _SUBJECTS[s]
    return {
        f"{s}/6mm": FileSpec(f"{_D}6mm/{s}-timecourses.txt", t6, _SRC),
        f"{s}/10mm": FileSpec(f"{_D}10mm/{s}-timecourses.txt", t10, _SRC),
        f"{s}/rate": FileSpec(f"{_D}{s}-rate.txt", rate, _SRC),
        f"{s}/sndpwr": FileSpec(f"{_D}{s}-sndpwr.txt", snd, _SRC),
        f"{s}/motion": FileSpec(_D + motion_name, motion, _SRC),
    }


INFO = DatasetInfo(
    name="brennan2016",
    title="Alice in Wonderland ch. 1: fMRI of 6 language ROIs, 27 listeners (Brennan et al. 2016)",
    modality="human fMRI (ROI time courses, TR = 2 s) during naturalistic listening",
    citation="Brennan JR, Stabler EP, Van Wagenen SE, Luh W-M, Hale JT (2016). Abstract linguistic "
             "structure correlates with temporal activity during naturalistic comprehension. "
             "Brain and Language 157-158:81-94.",
    licence="CC-BY 4.0",
    source=_SRC,
    description=(
        "responses['6mm'] and responses['10mm']: stimulus = TR (362 scans, ids 'tr000'..., "
        "coords 'time' = (i + 10) * 2 s in TextGrid time and 'volume' = i + 10), unit = "
        "subject/ROI (27 subjects x 6 left-lateralised ROIs LATL RATL LPTL LIPL LPreM LIFG, "
        "ids 's18/LATL', coords 'subject', 'region', 'radius'); raw BOLD values unless "
        "zscore=True. Subject s33 is EXCLUDED: its time courses are constant (recorded in the "
        "provenance field 'excluded_subjects'). brennan.subject_tr_roi(da) gives a subject x TR "
        "x ROI array. stimuli: the 2127 words of the TextGrid as texts (ids 'w0000'...), "
        "extra['words']: DataFrame (word, onset, offset in s, tr = scan during the onset). "
        "extra['regressors']: DataFrame indexed by TR id (same order as the responses) with "
        "two-level columns: ('all', <12 linguistic predictors, HRF-convolved>) and "
        "(<subject>, 'sndpwr' | 'rate' | motion_tx/ty/tz/rx/ry/rz) nuisance regressors."),
    files=(*_COMMON.values(), *(f for s in SUBJECTS for f in _subject_files(s).values())),
    options={"subjects": "subset of subject ids (default: all 27 usable; s33 is excluded)",
             "zscore": "z-score each ROI time course over TRs (ddof=0), as in the README's recipe "
                       "(default False: raw values)"},
)


# ------------------------------------------------------------------------------ TextGrid
_INTERVAL = re.compile(
    r'intervals\s*\[\d+\]\s*:\s*xmin\s*=\s*(\S+)\s*xmax\s*=\s*(\S+)\s*text\s*=\s*"((?:[^"]|"")*)"')


def parse_textgrid(path: str | os.PathLike, tier: str | None = None) -> pd.DataFrame:
    """Read the intervals of one tier of a Praat TextGrid (long text format).

    Parameters
    ----------
    path : the ``.TextGrid`` file (UTF-8 or UTF-16).
    tier : tier name; default: the only interval tier (error if there are several).

    Returns
    -------
    DataFrame with columns ``xmin``, ``xmax`` (seconds, float) and ``text`` (str, Praat's doubled
    quotes undone), one row per interval in file order, including silences.
    """
    raw = Path(path).read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    if 'ooTextFile' not in text[:200] or "TextGrid" not in text[:200]:
        raise InvalidDataError(f"{path} is not a Praat TextGrid (no 'ooTextFile'/'TextGrid' header)")
    items = re.split(r"\n\s*item\s*\[\d+\]\s*:", text)[1:]
    if not items:
        raise InvalidDataError(f"{path}: no tiers found; only the long TextGrid text format is read "
                               "(save it from Praat as 'text file', not 'short text file')")
    tiers: dict[str, str] = {}
    for it in items:
        m = re.search(r'class\s*=\s*"([^"]*)"\s*name\s*=\s*"([^"]*)"', it)
        if m and m.group(1) == "IntervalTier":
            tiers[m.group(2)] = it
    if tier is None:
        if len(tiers) != 1:
            raise InvalidDataError(f"{path} has interval tiers {sorted(tiers)}; pass tier=")
        tier = next(iter(tiers))
    if tier not in tiers:
        raise UnknownNameError("TextGrid tier", tier, tiers)
    rows = [(float(a), float(b), t.replace('""', '"')) for a, b, t in _INTERVAL.findall(tiers[tier])]
    m = re.search(r"intervals:\s*size\s*=\s*(\d+)", tiers[tier])
    if m and int(m.group(1)) != len(rows):
        raise InvalidDataError(f"{path}: tier {tier!r} declares {m.group(1)} intervals but "
                               f"{len(rows)} were read; the file may be truncated")
    return pd.DataFrame(rows, columns=["xmin", "xmax", "text"])


def _words(path: Path) -> pd.DataFrame:
    iv = parse_textgrid(path, "word")
    text = iv["text"].str.strip()
    keep = (text != "") & (text != "sp")
    df = pd.DataFrame({"word": text[keep].to_numpy(), "onset": iv["xmin"][keep].to_numpy(),
                       "offset": iv["xmax"][keep].to_numpy()})
    df.index = pd.Index([f"w{i:04d}" for i in range(len(df))], name="stimulus")
    df["duration"] = df["offset"] - df["onset"]
    tr = np.floor(df["onset"].to_numpy() / TR).astype(int) - N_DISCARDED
    df["tr"] = np.where((tr >= 0) & (tr < N_TR), tr, -1)
    return df


# ------------------------------------------------------------------------------ loader
def _loadtxt(path: Path, n_rows: int, n_cols: int) -> np.ndarray:
    a = np.loadtxt(path, ndmin=2)
    if a.shape != (n_rows, n_cols):
        raise InvalidDataError(f"{path}: shape {a.shape}, expected ({n_rows}, {n_cols})")
    return a


def _check_subjects(subjects: Sequence[str] | str | None) -> list[str]:
    if subjects is None:
        return list(SUBJECTS)
    subjects = [subjects] if isinstance(subjects, str) else [str(s) for s in subjects]
    for s in subjects:
        if s in EXCLUDED:
            raise InvalidDataError(f"subject {s!r} is excluded from brennan2016: {EXCLUDED[s]}. "
                                   f"Choose among {', '.join(SUBJECTS)}.")
        if s not in _SUBJECTS:
            raise UnknownNameError("brennan2016 subject", s, SUBJECTS)
    if len(set(subjects)) != len(subjects):
        raise InvalidDataError(f"duplicated subjects in {subjects}")
    return subjects


@register_dataset(INFO)
def load(root: str | os.PathLike | None = None, subjects: Sequence[str] | str | None = None,
         zscore: bool = False, verify_checksums: bool = True) -> BrainData:
    """Load ROI time courses, words and regressors of the Alice listening experiment.

    Parameters
    ----------
    root : mirror root (default: ``$BRAINALIGN_DATA`` or ``../shared/data``).
    subjects : subject ids (e.g. ``["s18", "s22"]``); default all 27 usable ones.
    zscore : z-score each ROI time course over the 362 TRs (ddof=0).
    verify_checksums : check the SHA-256 of every file read.

    Returns
    -------
    BrainData with ``responses["6mm"]``, ``responses["10mm"]`` (shape (362, 6 * n_subjects)),
    ``stimuli`` (2127 words), ``extra["words"]`` and ``extra["regressors"]`` (362 rows).
    """
    subjects = _check_subjects(subjects)
    specs = dict(_COMMON)
    for s in subjects:
        specs.update(_subject_files(s))
    paths = {k: verify(f, root, check=verify_checksums) for k, f in specs.items()}

    idx = np.arange(N_TR)
    tr_ids = [f"tr{i:03d}" for i in idx]
    scoords = {"time": (idx + N_DISCARDED) * TR, "volume": idx + N_DISCARDED}
    prov_params = {"source": _SRC, "subjects": subjects, "zscore": bool(zscore),
                   "excluded_subjects": EXCLUDED, "tr_seconds": TR,
                   "time": "row i is the scan at t = (i + 10) * 2 s in TextGrid time"}
    responses: dict[str, xr.DataArray] = {}
    for radius in RADII:
        blocks = []
        for s in subjects:
            a = _loadtxt(paths[f"{s}/{radius}"], N_TR, len(REGIONS))
            const = [r for r, sd in zip(REGIONS, a.std(axis=0), strict=True) if sd == 0]
            if const:
                raise InvalidDataError(f"subject {s} has constant {radius} time courses in {const}; "
                                       "the mirror copy may be damaged")
            if zscore:
                a = (a - a.mean(axis=0)) / a.std(axis=0)
            blocks.append(a)
        data = np.concatenate(blocks, axis=1)
        units = [f"{s}/{r}" for s in subjects for r in REGIONS]
        ucoords = {"subject": np.repeat(subjects, len(REGIONS)).astype(object),
                   "region": np.tile(np.asarray(REGIONS, dtype=object), len(subjects)),
                   "radius": np.full(len(units), radius, dtype=object)}
        prov = make_provenance("data.brennan2016", {**prov_params, "radius": radius},
                               inputs={s: _SUBJECTS[s][RADII.index(radius)][:16] for s in subjects})
        responses[radius] = make_responses(data, tr_ids, units, stimulus_coords=scoords,
                                           unit_coords=ucoords, provenance=prov,
                                           source="brennan2016", name="bold")

    words = _words(paths["textgrid"])
    stimuli = StimulusSet.from_texts(words["word"].tolist(), list(words.index),
                                     name="brennan2016_alice_words", metadata=words)

    cols: dict[tuple[str, str], np.ndarray] = {}
    pred = _loadtxt(paths["predictors"], N_TR + N_DISCARDED, len(PREDICTORS))[N_DISCARDED:]
    for j, name in enumerate(PREDICTORS):
        cols[("all", name)] = pred[:, j]
    for s in subjects:
        cols[(s, "sndpwr")] = _loadtxt(paths[f"{s}/sndpwr"], N_TR, 1)[:, 0]
        cols[(s, "rate")] = _loadtxt(paths[f"{s}/rate"], N_TR, 1)[:, 0]
        motion = _loadtxt(paths[f"{s}/motion"], N_TR + N_DISCARDED, len(MOTION))[N_DISCARDED:]
        for j, name in enumerate(MOTION):
            cols[(s, name)] = motion[:, j]
    regressors = pd.DataFrame(cols, index=pd.Index(tr_ids, name="stimulus"))
    regressors.columns = pd.MultiIndex.from_tuples(regressors.columns, names=["subject", "regressor"])

    return BrainData("brennan2016", INFO, stimuli=stimuli, responses=responses,
                     extra={"words": words, "regressors": regressors, "subjects": subjects,
                            "excluded_subjects": dict(EXCLUDED), "regions": REGIONS, "tr": TR})


def subject_tr_roi(da: xr.DataArray) -> xr.DataArray:
    """Reshape a ``brennan2016`` responses array to dims ``("subject", "stimulus", "region")``.

    Parameters
    ----------
    da : responses, shape (n_tr, n_subjects * 6), with unit coords ``subject`` and ``region``.

    Returns
    -------
    DataArray of shape (n_subjects, n_tr, 6): not a responses array (its first dim is
    ``subject``), meant for per-subject encoding loops: ``out.sel(subject="s18")`` is TR x ROI.
    """
    for c in ("subject", "region"):
        if c not in da.coords:
            raise InvalidDataError(f"responses lack the unit coordinate {c!r}; pass an array from "
                                   "load_dataset('brennan2016').responses")
    subjects = list(dict.fromkeys(da["subject"].values.tolist()))
    regions = list(dict.fromkeys(da["region"].values.tolist()))
    sub = da["subject"].values
    reg = da["region"].values
    out = np.full((len(subjects), da.sizes["stimulus"], len(regions)), np.nan, dtype=da.dtype)
    for i, s in enumerate(subjects):
        for j, r in enumerate(regions):
            hit = np.flatnonzero((sub == s) & (reg == r))
            if len(hit) != 1:
                raise InvalidDataError(f"{len(hit)} units for subject {s!r}, region {r!r}; expected 1")
            out[i, :, j] = np.asarray(da.values)[:, hit[0]]
    scoords = {k: ("stimulus", da[k].values) for k, v in da.coords.items()
               if v.dims == ("stimulus",) and k != "stimulus"}
    return xr.DataArray(out, dims=("subject", "stimulus", "region"),
                        coords={"subject": subjects, "stimulus": da["stimulus"].values,
                                "region": regions, **scoords},
                        name=da.name, attrs=dict(da.attrs))
