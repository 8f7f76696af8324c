package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.TestMariaDb;
import io.github.pulsaroutbox.TestPostgres;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

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
 * The extension's migration files run under the migration tools users have, as docs/databases.md shows them, on
 * PostgreSQL (a schema of its own, dropped afterwards), MariaDB (a database of its own, dropped afterwards) and H2; the store then accepts the tables at startup and
 * {@code initialize-schema} leaves them as they are.
 * <ul>
 *     <li>Flyway: a Flyway of its own (its own history table, the files' location in the jar, the four placeholders,
 *     a baseline at 0 because the application's tables are already in the schema).</li>
 *     <li>Liquibase: the application's changelog defines the four properties and includes the extension's
 *     {@code <db>/liquibase/pulsar-outbox-changelog.yaml}.</li>
 * </ul>
 */
class MigrationToolsIntegrationTest {

    @Test
    void flywayAppliesTheMigrationsOnPostgreSql() throws Exception {
        onPostgreSql(schema -> flyway(postgres(), OutboxDatabase.POSTGRESQL, schema));
    }

    @Test
    void flywayAppliesTheMigrationsOnH2() throws Exception {
        flyway(h2(), OutboxDatabase.H2, "SHOP");
    }

    @Test
    void flywayAppliesTheMigrationsOnMariaDb() throws Exception {
        onMariaDb(database -> flyway(TestMariaDb.dataSource(), OutboxDatabase.MARIADB, database));
    }

    @Test
    void liquibaseAppliesTheMigrationsOnMariaDb() throws Exception {
        onMariaDb(database -> liquibase(TestMariaDb.dataSource(), OutboxDatabase.MARIADB, database));
    }

    @Test
    void liquibaseAppliesTheMigrationsOnPostgreSql() throws Exception {
        onPostgreSql(schema -> liquibase(postgres(), OutboxDatabase.POSTGRESQL, schema));
    }

    @Test
    void liquibaseAppliesTheMigrationsOnH2() throws Exception {
        liquibase(h2(), OutboxDatabase.H2, "SHOP");
    }

    private static void flyway(DataSource dataSource, OutboxDatabase database, String schema) throws SQLException {
        String table = schema + ".outbox";
        applicationTables(dataSource, schema);
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

        assertThat(result.migrationsExecuted).isEqualTo(JdbcOutboxStore.schemaVersion()); // every file, none skipped
        assertThat(result.targetSchemaVersion).isEqualTo(String.valueOf(JdbcOutboxStore.schemaVersion()));
        storeAcceptsTheTables(dataSource, table);
        assertThat(flyway.migrate().migrationsExecuted).isZero();
        assertThat(flyway.validateWithResult().validationSuccessful).isTrue();
    }

    private static void liquibase(DataSource dataSource, OutboxDatabase database, String schema) throws Exception {
        String table = schema + ".outbox";
        applicationTables(dataSource, schema);
        for (int run = 0; run < 2; run++) { // the second run finds nothing to do
            try (Connection c = dataSource.getConnection()) {
                Database liquibaseDatabase = DatabaseFactory.getInstance()
                                                            .findCorrectDatabaseImplementation(new JdbcConnection(c));
                liquibaseDatabase.setDefaultSchemaName(schema);
                Liquibase liquibase = new Liquibase("liquibase/application-changelog-" + database.folder() + ".yaml",
                                                    new ClassLoaderResourceAccessor(), liquibaseDatabase);
                liquibase.setChangeLogParameter("table", table);
                liquibase.setChangeLogParameter("name", "outbox");
                liquibase.setChangeLogParameter("archive", table + "_archive");
                liquibase.setChangeLogParameter("nodes", table + "_node");
                assertThat(liquibase.listUnrunChangeSets(new Contexts(), new LabelExpression()))
                        .hasSize(run == 0 ? JdbcOutboxStore.schemaVersion() : 0);
                liquibase.update(new Contexts(), new LabelExpression());
            }
        }
        storeAcceptsTheTables(dataSource, table);
    }

    /** The application's own tables are already in the schema. */
    private static void applicationTables(DataSource dataSource, String schema) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            s.execute("CREATE TABLE " + schema + ".orders (id VARCHAR(36) PRIMARY KEY)");
        }
    }

    private static void storeAcceptsTheTables(DataSource dataSource, String table) throws SQLException {
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
    }

    private interface SchemaTest {
        void run(String schema) throws Exception;
    }

    private static void onPostgreSql(SchemaTest test) throws Exception {
        String schema = "migrate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        try {
            test.run(schema);
        } finally {
            try (Connection c = postgres().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    /** On MariaDB a schema is a database: one of its own, dropped afterwards. */
    private static void onMariaDb(SchemaTest test) throws Exception {
        String database = "migrate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        try {
            test.run(database);
        } finally {
            try (Connection c = TestMariaDb.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + database);
            }
        }
    }

    private static DataSource postgres() {
        return TestPostgres.dataSource();
    }

    private static DataSource h2() {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:migrate-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        return dataSource;
    }
}
