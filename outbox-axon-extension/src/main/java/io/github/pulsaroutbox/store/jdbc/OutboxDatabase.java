package io.github.pulsaroutbox.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The databases the JDBC outbox store ships SQL for. Each has its own migrations ({@code migration/V<n>__*.sql}) and
 * {@code statements.properties} under {@code io/github/pulsaroutbox/store/jdbc/<folder>/}. {@link #MARIADB} serves
 * MariaDB 10.6+ through either driver (MySQL's Connector/J names a MariaDB server "MySQL") and MySQL 8 where it
 * agrees (docs/databases.md).
 */
public enum OutboxDatabase {
    H2("h2", "H2"),
    POSTGRESQL("postgresql", "PostgreSQL"),
    MARIADB("mariadb", "MariaDB", "MySQL");

    private final String folder;
    private final List<String> productNames;

    OutboxDatabase(String folder, String... productNames) {
        this.folder = folder;
        this.productNames = List.of(productNames);
    }

    /**
     * Whether a qualified table name's prefix is a catalog (MariaDB and MySQL call their databases so and have no
     * schemas in JDBC's sense), not a schema.
     */
    public boolean qualifiesByCatalog() {
        return this == MARIADB;
    }

    /** How this database's timestamp columns are written and read. */
    TimeColumns timeColumns() {
        return this == MARIADB ? TimeColumns.UTC_TEXT : TimeColumns.OFFSET;
    }

    /**
     * The value a statement binds for {@code instant} in this database's timestamp columns (a UTC offset, or UTC text
     * for MariaDB's {@code DATETIME(6)}), so that it is stored to the microsecond whatever the JVM's zone and driver.
     */
    public Object bindable(java.time.Instant instant) {
        return timeColumns().bind(instant);
    }

    /** The resource folder holding this database's SQL. */
    public String folder() {
        return folder;
    }

    /**
     * The database behind {@code connection}, from its JDBC product name.
     *
     * @throws IllegalStateException for a database without shipped SQL
     */
    public static OutboxDatabase detect(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName();
        return Arrays.stream(values())
                     .filter(db -> db.productNames.stream().anyMatch(name -> name.equalsIgnoreCase(product)))
                     .findFirst()
                     .orElseThrow(() -> new IllegalStateException(
                             "The outbox has no SQL for database '" + product + "'; supported: "
                                     + Arrays.toString(values()).toLowerCase(Locale.ROOT)));
    }
}
