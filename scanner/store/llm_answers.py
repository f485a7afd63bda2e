"""The language model's answers (``analysis.namer: llm``, ``scanner.analysis.namer``), kept by the
content hash of what it was asked, so a rerun with the same material asks nothing and names the
same. Each answer is written in its own short transaction as soon as it arrives: an analysis cut off
halfway keeps what it paid for."""

from __future__ import annotations

from collections.abc import Sequence

from scanner.store import Store, chunked, placeholders


def cached_answers(store: Store, prompt_hashes: Sequence[str]) -> dict[str, str]:
    """The stored answer of each of ``prompt_hashes`` that has one."""
    out: dict[str, str] = {}
    for chunk in chunked(list(dict.fromkeys(prompt_hashes))):
        out.update(store.db.execute(
            f"SELECT prompt_hash, answer FROM llm_answers WHERE prompt_hash IN ({placeholders(chunk)})", chunk))
    return out


def save_answer(store: Store, prompt_hash: str, model: str, prompt_version: int, answer: str, now: str) -> None:
    """Keep one answer (a later answer to the same prompt replaces it)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO llm_answers (prompt_hash, model, prompt_version, answer, created_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(prompt_hash) DO UPDATE SET answer = excluded.answer, created_at = excluded.created_at",
            (prompt_hash, model, prompt_version, answer, now))


__all__ = ["cached_answers", "save_answer"]
