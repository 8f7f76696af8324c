package io.github.pulsaroutbox.store.jdbc;

import org.axonframework.common.jdbc.JdbcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The outbox tables' schema: applies the extension's migrations ({@link #createSchema()}) and checks at start that the
 * tables are the ones this code reads and writes ({@link #verifySchema(Runnable)}).
 */
final class JdbcSchema {

    private static final Logger logger = LoggerFactory.getLogger(JdbcSchema.class);

    private final JdbcAccess db;
    private final String table;

    JdbcSchema(JdbcAccess db) {
        this.db = db;
        this.table = db.table();
    }

    /**
     * Brings the tables to {@link OutboxSql#SCHEMA_VERSION}: applies the extension's migration files
     * ({@code io/github/pulsaroutbox/store/jdbc/<database>/migration/V<n>__*.sql}, the same files Flyway or Liquibase
     * users include) above the version the tables carry. Tables without a recorded version get version 1 first, whose
     * statements are all {@code IF NOT EXISTS}: tables created by an earlier version of the extension are adopted.
     * Tables of a newer version are left alone ({@link #verifySchema(Runnable)} reports them).
     */
    void createSchema() {
        db.withConnection(connection -> {
            OutboxSql statements = db.sql(connection);
            int installed = installedVersion(connection, statements);
            try (Statement statement = connection.createStatement()) {
                for (int version = Math.max(installed, 0) + 1; version <= OutboxSql.SCHEMA_VERSION; version++) {
                    for (String ddl : statements.migration(version)) {
                        statement.execute(ddl);
                    }
                    logger.info("Outbox table '{}' migrated to schema version {}", table, version);
                }
            }
            return null;
        });
    }

    /**
     * Checks the tables before anything uses them: their schema version (recorded by the migrations) must be the
     * one this code needs, and a read through every column of the outbox and node tables and the relay's scan (with
     * its index hints) must work. A missing, older or newer table fails the start once, with the fix, instead of every
     * command and every relay pass failing later.
     *
     * @param relayScan the relay's scan, run once as the last check
     * @throws io.github.pulsaroutbox.OutboxStartupException naming what is wrong and how to fix it
     */
    void verifySchema(Runnable relayScan) {
        OutboxDatabase[] database = new OutboxDatabase[1];
        int installed;
        try {
            installed = db.withConnection(connection -> {
                database[0] = db.database(connection);
                return installedVersion(connection, db.sql(connection));
            });
        } catch (JdbcException e) {
            throw startupFailure(database[0], "the outbox table '" + table + "' cannot be read: " + e.getMessage()
                    + ".", e);
        }
        String folder = "io/github/pulsaroutbox/store/jdbc/" + (database[0] == null ? "<database>"
                                                                                    : database[0].folder())
                + "/migration/";
        if (installed > OutboxSql.SCHEMA_VERSION) {
            throw new io.github.pulsaroutbox.OutboxStartupException(
                    "the outbox table '" + table + "' has schema version " + installed + ", newer than this version "
                            + "of the extension reads and writes (" + OutboxSql.SCHEMA_VERSION + "): a newer version "
                            + "migrated it.",
                    "Run the version of the extension that migrated the table (schema versions only move forward; "
                            + "docs/databases.md, Schema versions)", null);
        }
        if (installed > 0 && installed < OutboxSql.SCHEMA_VERSION) {
            throw new io.github.pulsaroutbox.OutboxStartupException(
                    "the outbox table '" + table + "' has schema version " + installed + ", older than this version "
                            + "of the extension needs (" + OutboxSql.SCHEMA_VERSION + ").",
                    "Migrate it: in Spring Boot set pulsar-outbox.initialize-schema=always (it applies the missing "
                            + "migrations), or apply " + folder + OutboxSql.MIGRATIONS.get(installed) + " and later "
                            + "files (in the extension's jar) with your migrations (Flyway, Liquibase: "
                            + "docs/databases.md)", null);
        }
        // a table from before versions were recorded lacks the columns of later versions: say that, not which column
        if (installed == 0 && db.withConnection(connection -> tableExists(connection, table))) {
            throw startupFailure(database[0], "the outbox table '" + table + "' records no schema version (its "
                    + table + "_version table is missing): it was created before schema versions were recorded.",
                                 null);
        }
        try {
            db.withConnection(connection -> {
                try (Statement statement = connection.createStatement()) {
                    statement.executeQuery(db.sql(connection).get("verifyTable")).close();
                    statement.executeQuery(db.sql(connection).get("verifyNodes")).close();
                }
                return null;
            });
            relayScan.run();
        } catch (JdbcException e) {
            throw startupFailure(database[0], "the outbox table '" + table + "' (or its " + table + "_node or "
                    + table + "_version table) is missing or was not created by the extension's migrations: "
                    + e.getMessage() + ".", e);
        }
        if (installed == 0) {
            throw startupFailure(database[0], "the outbox table '" + table + "' records no schema version (its "
                    + table + "_version table is missing): it was created before schema versions were recorded.",
                                 null);
        }
    }

    private io.github.pulsaroutbox.OutboxStartupException startupFailure(OutboxDatabase database, String problem,
                                                                         Exception cause) {
        String folder = database == null ? "<database>" : database.folder();
        return new io.github.pulsaroutbox.OutboxStartupException(
                problem,
                "Create or migrate it: in Spring Boot set pulsar-outbox.initialize-schema=always (it applies the "
                        + "extension's migrations; the default does so only on embedded databases), or apply "
                        + "io/github/pulsaroutbox/store/jdbc/" + folder + "/migration/V1__*.sql to V"
                        + OutboxSql.SCHEMA_VERSION + "__*.sql (in its jar) with your migrations (Flyway, Liquibase), "
                        + "with the placeholders ${table}, ${name}, ${archive} and ${nodes} (docs/databases.md)",
                cause);
    }

    /** The version recorded in {@code <table>_version}, or 0 when there is no such table. */
    private int installedVersion(Connection connection, OutboxSql statements) throws SQLException {
        if (!tableExists(connection, table + "_version")) {
            return 0;
        }
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(statements.get("schemaVersion"))) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    /**
     * Whether {@code name} (optionally schema-qualified, database-qualified on MariaDB; else in the connection's
     * schema or database) names a table.
     */
    private boolean tableExists(Connection connection, String name) throws SQLException {
        java.sql.DatabaseMetaData metaData = connection.getMetaData();
        int dot = name.indexOf('.');
        String qualifier = dot < 0 ? null : identifier(metaData, name.substring(0, dot));
        String catalog = connection.getCatalog();
        String schema = connection.getSchema();
        if (db.database(connection).qualifiesByCatalog()) {
            catalog = qualifier != null ? qualifier : catalog;
            schema = null;
        } else if (qualifier != null) {
            schema = qualifier;
        }
        String escape = metaData.getSearchStringEscape();
        String pattern = identifier(metaData, name.substring(dot + 1)).replace("_", escape + "_");
        try (ResultSet tables = metaData.getTables(catalog, schema, pattern, null)) {
            return tables.next();
        }
    }

    /** An unquoted identifier as the database stores it. */
    private static String identifier(java.sql.DatabaseMetaData metaData, String name) throws SQLException {
        if (metaData.storesUpperCaseIdentifiers()) {
            return name.toUpperCase(java.util.Locale.ROOT);
        }
        return metaData.storesLowerCaseIdentifiers() ? name.toLowerCase(java.util.Locale.ROOT) : name;
    }
}
