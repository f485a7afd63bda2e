"""Names of signals and trends: from their keyphrases, or (optional) from a language model.

``analysis.namer: keyphrases`` (the default) keeps the name ``scanner.analysis.label`` makes from the
keyphrases, and no summary. ``analysis.namer: llm`` asks the model named by ``analysis.llm_model``,
through the `llm` library (simonw/llm, whose plugins reach hosted models, Ollama and local GGUF
files), for a short name and a one-paragraph summary of each signal and trend. The prompt
(``build_prompt``) carries its Thai and English keywords and its most central headlines, and asks
for JSON in the language most of its items are in.

The model is never in the way:

- its answer is kept in ``llm_answers`` under the sha256 of (model name, ``PROMPT_VERSION``, prompt),
  so a rerun with the same material makes no call and gives the same names;
- an answer that is empty, unparseable or too long (``parse_answer``), or a model that raises, leaves
  the keyphrase name and no summary, with a warning, and the analysis goes on; after
  ``MAX_FAILURES`` failures in a row the run stops asking;
- an analyst's rename is kept apart (``custom_title``) and always wins over the automatic name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from scanner.analysis.label import NAME_CHARS, central_titles
from scanner.clock import iso, now_utc
from scanner.config.models import AnalysisConfig
from scanner.errors import ConfigError, MissingDependencyError
from scanner.models import Keywords, SignalLabel
from scanner.store import Store
from scanner.store.llm_answers import cached_answers, save_answer

logger = logging.getLogger(__name__)

PROMPT_VERSION = 1  # part of every answer's key: change it whenever build_prompt changes
PROMPT_TITLES = 8  # the most central headlines a prompt carries
PROMPT_KEYWORDS = 8  # keywords per language
SUMMARY_CHARS = 1000  # a longer summary is not one paragraph: the answer is not used
ANSWER_CHARS = 20_000  # an answer is cut here before it is stored and read
MAX_FAILURES = 3  # failed calls in a row after which a run stops asking the model
LANGUAGES = {"th": "Thai", "en": "English"}
NAME_LABELS = ("name", "title", "ชื่อ")
SUMMARY_LABELS = ("summary", "สรุป")
LABEL_RE = re.compile(r"^[\s*#>\-]*(name|title|ชื่อ|summary|สรุป)[\s*]*[:：]\s*(.*)$", re.IGNORECASE)
NAME_STRIP = " \"'“”‘’«»*`"


@dataclass(frozen=True)
class NamingInput:
    """What the model is told about one signal or trend, and the name it keeps without a usable answer."""

    kind: str  # "signal" | "trend"
    id: int
    keywords: Keywords
    titles: list[str]  # the most central first, at most ``PROMPT_TITLES``
    language: str  # "th" | "en": the language of most of its items
    fallback: str  # the keyphrase name

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True)
class Naming:
    name: str
    summary: str = ""


class Namer(Protocol):
    """Names a batch of signals or trends, one ``Naming`` per input, in order."""

    def name(self, inputs: Sequence[NamingInput]) -> list[Naming]: ...

    def report(self) -> str | None:
        """A line for the analysis summary (``None``: nothing to say)."""
        ...


class KeyphraseNamer:
    """The default: the keyphrase name, no summary."""

    def name(self, inputs: Sequence[NamingInput]) -> list[Naming]:
        return [Naming(m.fallback) for m in inputs]

    def report(self) -> str | None:
        return None


def get_namer(analysis: AnalysisConfig, store: Store) -> Namer:
    """The namer ``analysis.namer`` asks for (``llm_model`` is checked when the file is read)."""
    if analysis.namer != "llm":
        return KeyphraseNamer()
    import importlib.util

    if importlib.util.find_spec("llm") is None:
        raise MissingDependencyError("the 'llm' namer needs the llm library: pip install 'scanner[llm]'")
    if not analysis.llm_model:
        raise ConfigError(["analysis.llm_model: the llm namer needs a model: write llm_model: NAME"])
    return LlmNamer(store, analysis.llm_model)


def naming_input(kind: str, ident: int, keywords: Keywords, titles: Sequence[str], langs: Sequence[str],
                 vectors: np.ndarray, mean: np.ndarray, fallback: str) -> NamingInput:
    """The prompt's material for one signal or trend: members' ``titles``, ``langs`` and ``vectors``,
    its unit ``mean`` and its keyphrase name."""
    thai = sum(1 for lang in langs if lang == "th")
    return NamingInput(kind=kind, id=ident, keywords=keywords, fallback=fallback,
                       titles=central_titles(titles, vectors, mean, PROMPT_TITLES),
                       language="th" if 2 * thai >= len(langs) else "en")


def apply_names(namer: Namer, labels: Sequence[SignalLabel], inputs: Sequence[NamingInput]) -> list[SignalLabel]:
    """``labels`` with the names and summaries ``namer`` gives them (``inputs`` in the same order)."""
    return [replace(lb, title=n.name, summary=n.summary)
            for lb, n in zip(labels, namer.name(inputs), strict=True)]


def build_prompt(m: NamingInput) -> str:
    """What the model is asked about one signal or trend."""
    language = LANGUAGES.get(m.language, "Thai")
    return "\n".join([
        "You help analysts scan news about Thai digital government. Below are the keywords and the most "
        f"typical headlines of one {m.kind}: news items about one matter.",
        f"Give the matter a short name (at most {NAME_CHARS} characters) and a summary of one paragraph (two "
        f"to four sentences) saying what the items report. Write both in {language}.",
        'Answer with JSON only, in this form: {"name": "...", "summary": "..."}',
        "",
        f"Thai keywords: {', '.join(m.keywords.get('th', [])[:PROMPT_KEYWORDS]) or '-'}",
        f"English keywords: {', '.join(m.keywords.get('en', [])[:PROMPT_KEYWORDS]) or '-'}",
        "Headlines, most typical first:",
        *(f"{k}. {t}" for k, t in enumerate(m.titles, 1)),
    ])


def prompt_key(model: str, prompt: str) -> str:
    """The content hash an answer is kept under."""
    text = json.dumps([model, PROMPT_VERSION, prompt], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_answer(text: str) -> Naming:
    """The name and summary in a model's answer: JSON (``{"name": …, "summary": …}``, anywhere in the
    text, in a code fence or not), else ``Name:`` and ``Summary:`` lines. Raises ``ValueError`` saying
    what is wrong when there is no name, or the name or summary is too long."""
    text = (text or "").strip()
    if not text:
        raise ValueError("the answer is empty")
    fields = _json_fields(text) or _labelled_fields(text)
    if fields is None:
        raise ValueError("the answer is neither JSON with a name nor a 'Name:' line")
    name = " ".join(fields.get("name", "").split()).strip(NAME_STRIP)
    summary = " ".join(fields.get("summary", "").split())
    if not name:
        raise ValueError("the answer gives no name")
    if len(name) > NAME_CHARS:
        raise ValueError(f"the name is {len(name)} characters long (at most {NAME_CHARS})")
    if len(summary) > SUMMARY_CHARS:
        raise ValueError(f"the summary is {len(summary)} characters long (at most {SUMMARY_CHARS})")
    return Naming(name, summary)


def _json_fields(text: str) -> dict[str, str] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {k: v for k in ("name", "summary") if isinstance(v := data.get(k), str)}


def _labelled_fields(text: str) -> dict[str, str] | None:
    fields: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = LABEL_RE.match(line)
        if m:
            current = "name" if m.group(1).lower() in NAME_LABELS else "summary"
            fields.setdefault(current, []).append(m.group(2))
        elif current == "summary" and line.strip():
            fields[current].append(line)  # the summary's paragraph may go on over several lines
    if "name" not in fields:
        return None
    return {k: " ".join(v) for k, v in fields.items()}


class LlmNamer:
    """Names from the model ``model_name`` through the llm library, answers cached in the store."""

    def __init__(self, store: Store, model_name: str) -> None:
        self.store, self.model_name = store, model_name
        self._model: Any = None
        self._failures = 0
        self._stopped = False
        self.asked = self.cached = self.kept = self.named = 0

    def name(self, inputs: Sequence[NamingInput]) -> list[Naming]:
        prompts = [build_prompt(m) for m in inputs]
        keys = [prompt_key(self.model_name, p) for p in prompts]
        answers = cached_answers(self.store, keys)
        out = []
        for m, prompt, key in zip(inputs, prompts, keys, strict=True):
            answer = answers.get(key)
            if answer is not None:
                self.cached += 1
            else:
                answer = self._ask(m, prompt)
                if answer is not None:
                    save_answer(self.store, key, self.model_name, PROMPT_VERSION, answer, iso(now_utc()))
                    answers[key] = answer
            out.append(self._read(m, answer))
        return out

    def _ask(self, m: NamingInput, prompt: str) -> str | None:
        """The model's answer (cut to ``ANSWER_CHARS``), or ``None`` when it failed (logged)."""
        if self._stopped:
            return None
        self.asked += 1
        try:
            if self._model is None:
                import llm

                try:
                    self._model = llm.get_model(self.model_name)
                except llm.UnknownModelError:
                    self._stopped = True
                    logger.warning("analysis.llm_model %r is not a model llm knows (`llm models` lists them; "
                                   "install the llm plugin that serves it): names stay made from keyphrases",
                                   self.model_name)
                    return None
            text = str(self._model.prompt(prompt, stream=False).text())
        except Exception as e:  # whatever the model or its plugin raises, the analysis goes on
            self._failures += 1
            logger.warning("%s: the model %s failed (%s: %.200s); it keeps its keyphrase name %r", m.ref,
                           self.model_name, type(e).__name__, str(e), m.fallback)
            if self._failures >= MAX_FAILURES:
                self._stopped = True
                logger.warning("the model %s failed %d times in a row: the rest of this run keeps keyphrase names",
                               self.model_name, self._failures)
            return None
        self._failures = 0
        return text[:ANSWER_CHARS]

    def _read(self, m: NamingInput, answer: str | None) -> Naming:
        if answer is None:
            self.kept += 1
            return Naming(m.fallback)
        try:
            naming = parse_answer(answer)
        except ValueError as e:
            self.kept += 1
            logger.warning("%s: %s; it keeps its keyphrase name %r", m.ref, e, m.fallback)
            return Naming(m.fallback)
        self.named += 1
        return naming

    def report(self) -> str | None:
        return (f"names: {self.named} from {self.model_name} ({self.asked} asked, {self.cached} from the cache), "
                f"{self.kept} kept their keyphrase names")


__all__ = ["KeyphraseNamer", "LlmNamer", "Namer", "Naming", "NamingInput", "apply_names", "build_prompt",
           "get_namer", "naming_input", "parse_answer"]
