"""Authentication backends: Django's and allauth's, with a cheaper ``get_user``.

``get_user`` runs on every request of a logged-in user (the session names the backend). The ORM spends
more time building ``SELECT ... WHERE id = %s`` than the database spends answering it, so the row is read
with one statement written once from the model's metadata and made into a User the way the ORM would
(``kabinet.core.sql_rows``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.exceptions import ValidationError

from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import row_reader
from kabinet.identity.models import User

# Names from the model's metadata; the id is always a parameter.
_USER_BY_PK_SQL = "SELECT {columns} FROM {table} WHERE {pk} = %s"


@cache
def _user_by_pk_sql() -> str:
    return _USER_BY_PK_SQL.format(
        columns=row_reader(User).columns, table=sql_table(User), pk=sql_column(User, "id")
    )


def user_by_pk(user_id: Any) -> User | None:
    """The user with this primary key, or None: one hand-written statement (see the module docstring)."""
    try:
        pk = User._meta.pk.to_python(user_id)  # type: ignore[union-attr]
    except ValidationError:  # a malformed id in a session: no such user
        return None
    with hot_cursor() as cursor:
        cursor.execute(_user_by_pk_sql(), [pk])
        row = cursor.fetchone()
    return None if row is None else row_reader(User).instance(row)


class _FastGetUser:
    def get_user(self, user_id: Any) -> User | None:
        user = user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(_FastGetUser, DjangoModelBackend):
    pass


class AuthenticationBackend(_FastGetUser, AllauthBackend):
    pass
