from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kabinet.news.selectors import news_get, news_list_public


def news_list(request: HttpRequest) -> HttpResponse:
    return render(request, "news/list.html", {"items": news_list_public()[:50]})


def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = news_get(pk=pk)
    if item is None:
        raise Http404
    return render(request, "news/detail.html", {"item": item})
