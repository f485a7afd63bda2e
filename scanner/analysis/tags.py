"""Thematic tags per signal, zero-shot: cosine similarity of the signal's centroid to tag descriptions.

Three groups by default (``analysis.tags`` in sources.yaml replaces a group or adds one; an empty
group switches it off):

- ``steepv``: social, technological, economic, environmental, political, values (STEEP+V);
- ``themes``: the lab's thematic areas (digital transformation, trust in government, government
  innovation);
- ``sdgs``: SDG 9, 16 and 17.

Each description is bilingual (Thai then English) so a multilingual embedder meets Thai and
English signals half-way. Per group a signal gets its best tag, plus the runner-up when it is
within ``MARGIN`` of the best: zero-shot similarities are close together, so two near-equal
tags are both kept rather than one picked by noise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from scanner.analysis.embed import Embedder
from scanner.analysis.vectors import unit_rows

logger = logging.getLogger(__name__)

MARGIN = 0.02

DEFAULT_TAGS: dict[str, dict[str, str]] = {
    "steepv": {
        "social": "สังคม ประชาชน ชุมชน การศึกษา สาธารณสุข ความเหลื่อมล้ำ ผู้สูงอายุ. Society, citizens, communities, "
                  "education, health, inequality, demographics and everyday life.",
        "technological": "เทคโนโลยี ดิจิทัล ปัญญาประดิษฐ์ ระบบ แพลตฟอร์ม ข้อมูล ไซเบอร์. Technology, digital systems, "
                         "artificial intelligence, platforms, data, networks and cyber security.",
        "economic": "เศรษฐกิจ การลงทุน ธุรกิจ การค้า ตลาด งบประมาณ การจ้างงาน. Economy, investment, business, trade, "
                    "markets, budgets, jobs and growth.",
        "environmental": "สิ่งแวดล้อม สภาพภูมิอากาศ พลังงาน มลพิษ ภัยพิบัติ น้ำท่วม. Environment, climate change, "
                         "energy, pollution, disasters and natural resources.",
        "political": "การเมือง รัฐบาล กฎหมาย นโยบาย ระเบียบ ความมั่นคง ความร่วมมือระหว่างประเทศ. Politics, government, "
                     "law, regulation, policy, security and international relations.",
        "values": "ค่านิยม จริยธรรม ความเป็นส่วนตัว ความไว้วางใจ สิทธิ ความโปร่งใส. Values, ethics, privacy, trust, "
                  "rights, fairness and transparency.",
    },
    "themes": {
        "digital_transformation": "การเปลี่ยนผ่านสู่ดิจิทัล รัฐบาลดิจิทัล บริการอิเล็กทรอนิกส์ ระบบงานภาครัฐออนไลน์. "
                                  "Digital transformation of government: e-services, digital ID, online systems, "
                                  "data sharing and digital skills.",
        "trust_in_government": "ความไว้วางใจในรัฐบาล ความโปร่งใส ต่อต้านการทุจริต ข่าวปลอม การคุ้มครองประชาชน. "
                               "Building trust in government: transparency, accountability, anti-corruption, "
                               "fighting fake news and protecting citizens from fraud.",
        "government_innovation": "นวัตกรรมภาครัฐ การทดลองนโยบาย ความร่วมมือกับเอกชนและสตาร์ทอัพ. Government "
                                 "innovation: new public services, policy experiments, partnerships with startups "
                                 "and the private sector, emerging technology pilots.",
    },
    "sdgs": {
        "sdg9": "อุตสาหกรรม นวัตกรรม โครงสร้างพื้นฐาน อินเทอร์เน็ต. SDG 9: industry, innovation and infrastructure, "
                "including broadband and digital infrastructure.",
        "sdg16": "สันติภาพ ความยุติธรรม สถาบันที่เข้มแข็ง หลักนิติธรรม อาชญากรรม. SDG 16: peace, justice and strong "
                 "institutions, rule of law, fighting crime and corruption, access to information.",
        "sdg17": "หุ้นส่วนความร่วมมือ ความร่วมมือระหว่างประเทศ การแลกเปลี่ยนเทคโนโลยี. SDG 17: partnerships for the "
                 "goals, international cooperation, technology exchange and capacity building.",
    },
}


def tag_sets(configured: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    """The defaults, with each group in ``configured`` replacing or adding a group."""
    out = {g: dict(t) for g, t in DEFAULT_TAGS.items()}
    for group, tags in (configured or {}).items():
        out[group] = dict(tags)
    return {g: t for g, t in out.items() if t}


class Tagger:
    """Embeds the tag descriptions once, then tags centroids."""

    def __init__(self, embedder: Embedder, configured: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.groups = tag_sets(configured)
        self._names: list[tuple[str, str]] = [(g, t) for g, tags in self.groups.items() for t in tags]
        texts = [self.groups[g][t] for g, t in self._names]
        self._vectors = embedder.embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)

    def tag(self, centroids: np.ndarray) -> list[dict[str, list[str]]]:
        """Tags of each row of ``centroids`` (any length; only direction matters)."""
        if not len(centroids):
            return []
        if not self._names or self._vectors.shape[1] != centroids.shape[1]:
            return [{g: [] for g in self.groups} for _ in range(len(centroids))]
        sims = unit_rows(centroids) @ self._vectors.T
        out = []
        for row in sims:
            tags: dict[str, list[str]] = {}
            for group in self.groups:
                idx = [k for k, (g, _) in enumerate(self._names) if g == group]
                ranked = sorted(idx, key=lambda k: (-row[k], k))
                best = row[ranked[0]]
                tags[group] = [self._names[k][1] for k in ranked[:2] if row[k] >= best - MARGIN]
            out.append(tags)
        return out


TAG_LABELS = {"trust_in_government": "building trust in government"}


@lru_cache(maxsize=4096)
def tag_label(tag: str) -> str:
    """How a tag id reads in the digest: ``sdg16`` → ``SDG 16``, ``digital_transformation`` →
    ``digital transformation``."""
    m = re.fullmatch(r"sdg\s*(\d+)", tag.strip(), re.IGNORECASE)
    if m:
        return f"SDG {int(m.group(1))}"
    return TAG_LABELS.get(tag, tag.replace("_", " "))


__all__ = ["DEFAULT_TAGS", "Tagger", "tag_label", "tag_sets"]
