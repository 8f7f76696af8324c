package io.github.pulsaroutbox.store.jdbc;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import io.github.pulsaroutbox.OutboxEntry;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The extension's migration files are Flyway migrations as they ship: a Flyway of its own (its own history table,
 * the files' location in the jar, the four placeholders, a baseline at 0 because the application's tables are already
 * in the schema), as docs/databases.md shows it, creates tables the store
 * accepts at startup and that {@code initialize-schema} then leaves as they are. On PostgreSQL (in a schema of its
 * own, dropped afterwards) and on H2.
 */
class FlywayMigrationsIntegrationTest {

    @Test
    void flywayAppliesTheMigrationsOnPostgreSql() throws SQLException {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL",
                                                       "jdbc:postgresql://127.0.0.1:5432/test"));
        dataSource.setUser(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres"));
        dataSource.setPassword(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", ""));
        String schema = "flyway_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        try {
            migrateAndUse(dataSource, OutboxDatabase.POSTGRESQL, schema);
        } finally {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @Test
    void flywayAppliesTheMigrationsOnH2() throws SQLException {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:flyway-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        migrateAndUse(dataSource, OutboxDatabase.H2, "SHOP");
    }

    private static void migrateAndUse(DataSource dataSource, OutboxDatabase database, String schema)
            throws SQLException {
        String table = schema + ".outbox";
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            // the application's own tables (and its own migrations) are already there
            s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            s.execute("CREATE TABLE " + schema + ".orders (id VARCHAR(36) PRIMARY KEY)");
        }
        Flyway flyway = Flyway.configure()
                              .dataSource(dataSource)
                              .schemas(schema)
                              .table("pulsar_outbox_schema_history")          // apart from the application's own
                              .baselineOnMigrate(true).baselineVersion("0")   // the schema is not empty: start at 0
                              .locations("classpath:io/github/pulsaroutbox/store/jdbc/" + database.folder()
                                                 + "/migration")
                              .placeholders(Map.of("table", table, "name", "outbox",
                                                   "archive", table + "_archive", "nodes", table + "_node"))
                              .load();

        MigrateResult result = flyway.migrate();

        assertThat(result.migrationsExecuted).isEqualTo(JdbcOutboxStore.schemaVersion()); // V1 and V2, not skipped
        assertThat(result.targetSchemaVersion).isEqualTo(String.valueOf(JdbcOutboxStore.schemaVersion()));
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).table(table)
                                               .build();
        store.verifySchema();
        store.createSchema(); // what initialize-schema=always would do next: nothing to apply
        store.append(List.of(OutboxEntry.pending("e1", Instant.now(), "E", "Order", "o1", 0, "{}", null, "0", null)));
        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id).containsExactly("e1");
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version FROM " + table + "_version")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(JdbcOutboxStore.schemaVersion());
            assertThat(rs.next()).isFalse();
        }
        assertThat(flyway.migrate().migrationsExecuted).isZero();
        assertThat(flyway.validateWithResult().validationSuccessful).isTrue();
    }
}
