package io.github.pulsaroutbox;

import org.mariadb.jdbc.MariaDbDataSource;

import java.sql.SQLException;

import javax.sql.DataSource;

/**
 * The MariaDB server the integration tests use: {@code OUTBOX_TEST_MARIADB_URL}, {@code _USER} and {@code _PASSWORD},
 * by default {@code jdbc:mariadb://127.0.0.1:3306/test} as {@code root} without a password (the server and database
 * {@code .ci/run} makes sure exist). Through MariaDB's Connector/J, or MySQL's ({@link #mysqlDataSource()}, the
 * same server; every MariaDB test with {@code OUTBOX_TEST_MARIADB_URL=jdbc:mysql://…}). Each test keeps to tables of its own and drops them.
 */
public final class TestMariaDb {

    private TestMariaDb() {
    }

    public static String url() {
        return System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/test");
    }

    public static String user() {
        return System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_USER", "root");
    }

    public static String password() {
        return System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_PASSWORD", "");
    }

    /**
     * A new data source through MariaDB's Connector/J (no pool: tests open few connections), or through MySQL's when
     * the URL is a {@code jdbc:mysql:} one (every MariaDB test then runs through MySQL's driver).
     */
    public static DataSource dataSource() {
        if (url().startsWith("jdbc:mysql:")) {
            return mysqlDataSource();
        }
        try {
            MariaDbDataSource dataSource = new MariaDbDataSource(url());
            dataSource.setUser(user());
            dataSource.setPassword(password());
            return dataSource;
        } catch (SQLException e) {
            throw new IllegalStateException("Invalid MariaDB URL " + url(), e);
        }
    }

    /** A new data source on the same server through MySQL's Connector/J. */
    public static DataSource mysqlDataSource() {
        com.mysql.cj.jdbc.MysqlDataSource dataSource = new com.mysql.cj.jdbc.MysqlDataSource();
        dataSource.setURL(url().replace("jdbc:mariadb:", "jdbc:mysql:"));
        dataSource.setUser(user());
        dataSource.setPassword(password());
        return dataSource;
    }
}
