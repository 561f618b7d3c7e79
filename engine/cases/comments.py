"""Comments between executives on a case: append-only notes, each also recorded in the
case's history (kind "comment") so the audit trail shows who wrote when."""

from __future__ import annotations

from sqlalchemy import select

from engine.basics.clock import as_utc
from engine.basics.errors import NotFound
from engine.store.schema import Case, CaseEvent, Comment, User

MAX_LENGTH = 4000


def clean_body(body) -> str:
    """The comment as it will be stored: line breaks normalized, surrounding blanks removed.

    Raises ValueError (message in Spanish) if it is empty or longer than MAX_LENGTH.
    """
    if not isinstance(body, str):
        raise ValueError("El comentario debe ser un texto.")
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValueError("Escriba el comentario antes de enviarlo.")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"El comentario no puede superar los {MAX_LENGTH} caracteres (tiene {len(text)}).")
    return text


def add_comment(engine, case_id: int, author: str, body: str) -> dict:
    """Add a comment to a case (one transaction); returns it as `comments` does."""
    text = clean_body(body)
    if not isinstance(author, str) or not author.strip() or len(author) > 80:
        raise ValueError("Falta el autor del comentario (un nombre de usuario).")
    with engine.transaction() as s:
        if s.get(Case, case_id) is None:
            raise NotFound(f"no existe el caso {case_id}")
        now = engine.now()
        comment = Comment(case_id=case_id, author=author, body=text, created_at=now)
        s.add(comment)
        s.flush()
        s.add(CaseEvent(case_id=case_id, at=now, actor=author, kind="comment", detail={"comment_id": comment.id}))
        full_name = s.scalar(select(User.full_name).where(User.username == author))
        return _as_dict(comment, full_name)


def comments(engine, case_id: int) -> list[dict]:
    """The case's comments, oldest first, with the author's full name when the author is a user."""
    with engine.Session() as s:
        rows = s.execute(select(Comment, User.full_name).outerjoin(User, User.username == Comment.author)
                         .where(Comment.case_id == case_id).order_by(Comment.id)).all()
        return [_as_dict(c, full_name) for c, full_name in rows]


def _as_dict(comment: Comment, full_name: str | None) -> dict:
    return {"id": comment.id, "case_id": comment.case_id, "author": comment.author,
            "author_name": full_name or comment.author, "body": comment.body, "created_at": as_utc(comment.created_at)}

