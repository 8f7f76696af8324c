package io.github.pulsaroutbox.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The databases the JDBC outbox store ships SQL for. Each has its own migrations ({@code migration/V<n>__*.sql}) and
 * {@code statements.properties} under {@code io/github/pulsaroutbox/store/jdbc/<folder>/}.
 */
public enum OutboxDatabase {
    H2("h2", "H2"),
    POSTGRESQL("postgresql", "PostgreSQL");

    private final String folder;
    private final String productName;

    OutboxDatabase(String folder, String productName) {
        this.folder = folder;
        this.productName = productName;
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
                     .filter(db -> db.productName.equalsIgnoreCase(product))
                     .findFirst()
                     .orElseThrow(() -> new IllegalStateException(
                             "The outbox has no SQL for database '" + product + "'; supported: "
                                     + Arrays.toString(values()).toLowerCase(Locale.ROOT)));
    }
}
