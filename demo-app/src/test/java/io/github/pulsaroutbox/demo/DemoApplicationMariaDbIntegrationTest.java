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
 * The whole application on MariaDB, switched by the standard {@code spring.datasource.*} properties only: Axon's JPA
 * event store, token store and sagas (Hibernate's tables), the outbox with its MariaDB migrations, the relay, the
 * receiving side's inbox and the operator endpoints. Every scenario of {@link DemoApplicationIntegrationTest} runs
 * again here, in a database of its own (dropped when the application stops) and with a topic of its own, on the server
 * {@code .ci/run} ensures is up ({@code OUTBOX_TEST_MARIADB_URL}, default {@code jdbc:mariadb://127.0.0.1:3306/test}).
 */
class DemoApplicationMariaDbIntegrationTest extends DemoApplicationIntegrationTest {

    private static final String DATABASE = "demo_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    private static final String SERVER = System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_URL",
                                                                      "jdbc:mariadb://127.0.0.1:3306/test");
    private static final String USER = System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_USER", "root");
    private static final String PASSWORD = System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_PASSWORD", "");

    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void mariaDb(DynamicPropertyRegistry registry) throws SQLException {
        try (Connection c = DriverManager.getConnection(SERVER, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + DATABASE);
        }
        registry.add("spring.datasource.url", () -> SERVER.substring(0, SERVER.lastIndexOf('/') + 1) + DATABASE);
        registry.add("spring.datasource.username", () -> USER);
        registry.add("spring.datasource.password", () -> PASSWORD);
        // a topic of its own: the H2 run's application (cached by the test framework) reads the default one
        registry.add("pulsar-outbox.topics.Order", () -> "persistent://public/default/orders-" + DATABASE);
    }

    @Test
    void axonsTablesAndTheOutboxAreOnMariaDb() {
        assertThat(jdbc.queryForObject("SELECT VERSION()", String.class)).contains("MariaDB");
        assertThat(jdbc.queryForObject("SELECT version FROM axon_outbox_version", Integer.class))
                .isEqualTo(JdbcOutboxStore.schemaVersion());
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM domain_event_entry", Long.class)).isPositive();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM axon_outbox WHERE status = 'SENT'", Long.class))
                .isPositive();
    }

    @TestConfiguration(proxyBeanMethods = false)
    static class DropDatabaseAtTheEnd {

        /** Destroyed after Axon and the relay have stopped, before the pool closes. */
        @Bean
        DisposableBean dropDemoDatabase(DataSource dataSource) {
            return () -> {
                try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + DATABASE);
                }
            };
        }
    }
}
