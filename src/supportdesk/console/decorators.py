from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Console pages are for specialists and supervisors; contacts go to the portal."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_agent:  # type: ignore[union-attr]
            if request.method == "GET" and request.user.is_customer:  # type: ignore[union-attr]
                return redirect("portal:tickets")
            raise Http404("console")
        return view(request, *args, **kwargs)

    return wrapper


def supervisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @agent_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_supervisor:  # type: ignore[union-attr]
            raise Http404("supervisors only")
        return view(request, *args, **kwargs)

    return wrapper
