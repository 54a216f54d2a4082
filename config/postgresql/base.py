"""Django's PostgreSQL backend, with a limit on how long a request waits for the
server to answer (ENGINE "config.postgresql").

libpq has no client-side timeout for a query in flight. A server process that
hangs, or a proxy that keeps accepting bytes but stops forwarding them, looks
healthy to TCP keepalives and tcp_user_timeout (the peer's kernel acknowledges),
and statement_timeout only works on a server that runs. Such a request would hang
until gunicorn kills the worker. psycopg's Connection.wait() takes a timeout that
its cursors do not pass: this connection passes OPTIONS["answer_timeout"]
(seconds) to every wait, so the request fails fast with an OperationalError, which
the site answers with its 503 page (ops.health)."""

import psycopg
from django.db.backends.postgresql import base


class Connection(psycopg.Connection):
    answer_timeout = None  # seconds; None waits as long as it takes

    def wait(self, gen, *args, timeout=None, **kwargs):
        try:
            timeout = self.answer_timeout if timeout is None else timeout
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        except psycopg.errors._WaitTimeout:
            # A query may still be in flight: the connection cannot be reused.
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer within {timeout} seconds"
            ) from None


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        seconds = float(params.pop("answer_timeout", 0) or 0)  # 0: no limit
        self.answer_timeout = seconds or None
        return params

    def lift_time_limits(self):
        """No statement_timeout and no answer_timeout on this connection, for a
        command's long statements (the commit of a bulk insert checks the foreign
        keys of every new row at once), never for a request's."""
        with self.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        self.connection.answer_timeout = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Django makes the connection with psycopg.connect(); the subclass only
        # adds wait()'s default, so the connection becomes one.
        connection.__class__ = Connection
        connection.answer_timeout = self.answer_timeout
        return connection
