#!/usr/bin/python3
"""Recommendations from pgrec in a Django app: an unmanaged model over the items table, a view
that asks rec.recommend through a raw queryset, and a request to it through Django's test client.
One file for the example; in a project the parts go to settings.py, models.py, views.py and urls.py.
Connection: the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
Usage: django_app.py [USER_ID]"""
import os
import sys

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "postgres"),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        "USER": os.environ.get("PGUSER", ""),
    }},
)
django.setup()

from django.db import connection, models  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402


class Item(models.Model):
    """The application's own item table; pgrec's recommendations join with it."""
    name = models.TextField()

    class Meta:
        app_label = "shop"
        db_table = "items"
        managed = False


def recommendations(user_id, k=5):
    """The user's top k as Item objects, with the model's score and rank as extra attributes."""
    return Item.objects.raw(
        "SELECT i.id, i.name, r.score, r.rank FROM rec.recommend('demo', %s::integer, %s) r "
        "JOIN items i ON i.id = r.item_id ORDER BY r.rank", [user_id, k])


def recommend_view(request, user_id):
    """GET /recommend/<user>: one line per item, 'rank name score'."""
    lines = [f"{item.rank} {item.name} {item.score:.3f}" for item in recommendations(user_id)]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


urlpatterns = [path("recommend/<int:user_id>", recommend_view)]

if __name__ == "__main__":
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM rec.models WHERE model = 'demo'")
        if cur.fetchone()[0] == 0:
            cur.execute("SELECT rec.train('demo', 'ratings', 'user_id', 'item_id')")
    user = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    response = Client().get(f"/recommend/{user}")
    assert response.status_code == 200, response.status_code
    sys.stdout.write(response.content.decode())
