package io.github.pulsaroutbox;

import org.postgresql.ds.PGSimpleDataSource;

/**
 * The PostgreSQL server the integration tests use: {@code OUTBOX_TEST_POSTGRES_URL}, {@code _USER} and
 * {@code _PASSWORD}, by default {@code jdbc:postgresql://127.0.0.1:5432/test} as {@code postgres} (the server
 * {@code .ci/run} makes sure is up). Each test keeps to tables or a schema of its own and drops them.
 */
public final class TestPostgres {

    private TestPostgres() {
    }

    public static String url() {
        return System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    }

    public static String user() {
        return System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres");
    }

    public static String password() {
        return System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", "");
    }

    /** A new data source on that server (no pool: tests open few connections). */
    public static PGSimpleDataSource dataSource() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL(url());
        dataSource.setUser(user());
        dataSource.setPassword(password());
        return dataSource;
    }
}
