"""The survey web form: `/s/{token}`, reached through a single-use invitation link, no login.

The survey domain (`workspace.surveys`, the collaboration issue's) checks the token, stores the
answers without any link back to it, and spends the token; this module only shows the questions
and passes the answers on. The form carries the session's CSRF token like every other form.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from tandem.errors import TandemError
from tandem.server.auth import csrf_valid
from tandem.server.deps import WorkspaceDep
from tandem.server.pages.common import render

router = APIRouter()

AGREEMENT = (
    ("1", "Strongly disagree"),
    ("2", "Disagree"),
    ("3", "Neither agree nor disagree"),
    ("4", "Agree"),
    ("5", "Strongly agree"),
)


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "to_dict"):
        data: dict[str, Any] = value.to_dict()
        return data
    if hasattr(value, "model_dump"):
        dumped: dict[str, Any] = value.model_dump()
        return dumped
    return dict(value)


def form_view(form: Any) -> dict[str, Any]:
    """The survey's questions as the template shows them (every option spelled out)."""
    data = _as_dict(form)
    functions = [
        {"key": str(f["key"]), "name": str(f.get("name", f["key"]))}
        for f in data.get("functions", [])
    ]
    questions = []
    for q in data.get("questions", []):
        kind = str(q.get("kind", "agreement"))
        if kind == "agreement":
            options = [{"value": v, "label": label} for v, label in AGREEMENT]
        elif q.get("options"):
            options = [
                {"value": str(o["key"]), "label": str(o.get("label", o["key"]))}
                for o in q["options"]
            ]
        else:
            options = [{"value": f["key"], "label": f["name"]} for f in functions]
        questions.append(
            {
                "key": str(q["key"]),
                "text": str(q.get("text", q["key"])),
                "kind": kind,
                "multiple": kind.startswith("multiple"),
                "options": options,
            }
        )
    return {
        "survey": data.get("survey"),
        "title": data.get("title"),
        "description": data.get("description", ""),
        "functions": functions,
        "seniorities": list(data.get("seniority") or []),
        "questions": questions,
    }


def answers_from(form: FormData, view: dict[str, Any]) -> dict[str, Any]:
    """The posted answers by question key: a 1-5 number for agreement, a key for single
    choice, a list of keys for multiple choice; unanswered questions are left out."""
    answers: dict[str, Any] = {}
    for q in view["questions"]:
        if q["multiple"]:
            picked = [str(v) for v in form.getlist(q["key"])]
            if picked:
                answers[q["key"]] = picked
            continue
        value = form.get(q["key"])
        if isinstance(value, str) and value:
            agreement = q["kind"] == "agreement" and value.isdigit()
            answers[q["key"]] = int(value) if agreement else value
    return answers


def _unavailable(request: Request, message: str, status_code: int) -> HTMLResponse:
    return render(
        request,
        "message.html",
        heading="This survey link cannot be used",
        message=message,
        title="Survey",
        status_code=status_code,
    )


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_form(request: Request, token: str, ws: WorkspaceDep) -> HTMLResponse:
    surveys = getattr(ws, "surveys", None)
    if surveys is None:
        return _unavailable(request, "this workspace does not collect surveys", 404)
    try:
        view = form_view(surveys.form(token))
    except TandemError as exc:
        return _unavailable(request, exc.message, exc.status_code)
    return render(
        request, "survey_form.html", token=token, form=view, values=FormData(), title="Survey"
    )


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_submit(request: Request, token: str, ws: WorkspaceDep) -> HTMLResponse:
    surveys = getattr(ws, "surveys", None)
    if surveys is None:
        return _unavailable(request, "this workspace does not collect surveys", 404)
    posted = await request.form()
    try:
        view = form_view(surveys.form(token))
    except TandemError as exc:
        return _unavailable(request, exc.message, exc.status_code)
    sent = posted.get("csrf_token")
    if not csrf_valid(request, sent if isinstance(sent, str) else None):
        return render(
            request,
            "survey_form.html",
            token=token,
            form=view,
            values=posted,
            title="Survey",
            error="This form expired or did not come from this site: please send it again.",
            status_code=403,
        )
    function = posted.get("function")
    seniority = posted.get("seniority")
    try:
        surveys.submit(
            token,
            function=function if isinstance(function, str) else "",
            seniority=seniority if isinstance(seniority, str) and seniority else None,
            answers=answers_from(posted, view),
        )
    except TandemError as exc:
        return render(
            request,
            "survey_form.html",
            token=token,
            form=view,
            values=posted,
            title="Survey",
            error=exc.message,
            problems=[p.message for p in getattr(exc, "problems", [])],
            status_code=exc.status_code,
        )
    return render(
        request,
        "message.html",
        heading="Thank you",
        message="Your answers are in. They are stored without your name or this link, "
        "and the link cannot be used again.",
        title="Survey",
    )
