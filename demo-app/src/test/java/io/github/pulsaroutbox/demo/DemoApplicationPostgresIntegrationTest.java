package io.github.pulsaroutbox.demo;

import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole application on PostgreSQL, switched by the standard {@code spring.datasource.*} properties only: Axon's
 * JPA event store, token store and sagas, the outbox with its migrations, the relay and the operator endpoints. Every
 * scenario of {@link DemoApplicationIntegrationTest} runs again here, in a schema of its own (dropped when the
 * application stops) and with a topic of its own, on the server {@code .ci/run} ensures is up
 * ({@code OUTBOX_TEST_POSTGRES_URL}).
 */
class DemoApplicationPostgresIntegrationTest extends DemoApplicationIntegrationTest {

    private static final String SCHEMA = "demo_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    private static final String SERVER = System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL",
                                                                      "jdbc:postgresql://127.0.0.1:5432/test");
    private static final String USER = System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres");
    private static final String PASSWORD = System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", "");

    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) throws SQLException {
        try (Connection c = DriverManager.getConnection(SERVER, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + SCHEMA);
        }
        registry.add("spring.datasource.url", () -> SERVER + (SERVER.contains("?") ? "&" : "?")
                + "currentSchema=" + SCHEMA);
        registry.add("spring.datasource.username", () -> USER);
        registry.add("spring.datasource.password", () -> PASSWORD);
        // a topic of its own: the H2 run's application (cached by the test framework) reads the default one with
        // the same subscription
        registry.add("pulsar-outbox.topics.Order", () -> "persistent://public/default/orders-" + SCHEMA);
    }

    @Test
    void axonsTablesHoldBytesInlineAndTheOutboxCarriesItsSchemaVersion() {
        assertThat(jdbc.queryForList("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                             + "WHERE table_schema = ? AND table_name IN ('domain_event_entry', "
                                             + "'token_entry') AND column_name IN ('payload', 'meta_data', 'token')",
                                     SCHEMA))
                .isNotEmpty()
                .allSatisfy(column -> assertThat(column).containsEntry("data_type", "bytea"));
        assertThat(jdbc.queryForObject("SELECT version FROM axon_outbox_version", Integer.class))
                .isEqualTo(JdbcOutboxStore.schemaVersion());
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM domain_event_entry", Long.class)).isPositive();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM axon_outbox WHERE status = 'SENT'", Long.class))
                .isPositive();
    }

    @TestConfiguration(proxyBeanMethods = false)
    static class DropSchemaAtTheEnd {

        /** Destroyed after Axon and the relay have stopped, before the pool closes. */
        @Bean
        DisposableBean dropDemoSchema(DataSource dataSource) {
            return () -> {
                try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
                }
            };
        }
    }

}
