package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.CompositeHealth;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The tailing mode has what the table mode has at startup and in health: the broker-deduplication check of the mapped
 * topics, and the {@code outbox} health group, turning DEGRADED within {@code max-failing-for} of the first attempt
 * to reach an unreachable broker.
 */
class TailingStartupAndHealthIntegrationTest {

    @Test
    void requiredDeduplicationFailsTheStartForATopicWhoseNamespaceHasItOff() {
        String namespace = "tailnodedup-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "false");
        String topic = "persistent://public/" + namespace + "/orders";

        assertThatThrownBy(() -> start(SharedPulsarBroker.serviceUrl(), "pulsar-outbox.pulsar.deduplication=require",
                                       "pulsar-outbox.topics.ShopOrder=" + topic).close())
                .hasStackTraceContaining("deduplication is off for outbox topic(s) [" + topic + "]");
    }

    @Test
    void requiredDeduplicationStartsForATopicNotCreatedYetOnABrokerWithItOn() {
        String topic = "persistent://public/default/tail-dedup-" + UUID.randomUUID();
        try (ConfigurableApplicationContext context = start(SharedPulsarBroker.serviceUrl(),
                                                            "pulsar-outbox.pulsar.deduplication=require",
                                                            "pulsar-outbox.topics.ShopOrder=" + topic)) {
            assertThat(context.isRunning()).isTrue();
            assertThat(indicator(context.getBean(HealthEndpoint.class).healthForPath("outbox")).getDetails())
                    .containsEntry("mode", "tailing");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void anUnreachableBrokerDegradesTheOutboxGroupBeforeTheAckTimeout() {
        try (ConfigurableApplicationContext context = start(BrokerAdmin.unreachableServiceUrl(),
                                                            "pulsar-outbox.pulsar.deduplication=off",
                                                            "pulsar-outbox.health.max-failing-for=2s",
                                                            "pulsar-outbox.tailing.ack-timeout=5m",
                                                            "pulsar-outbox.topics.ShopOrder=persistent://public/"
                                                                    + "default/tail-unreachable")) {
            context.getBean(CommandGateway.class)
                   .sendAndWait(new ShopCommands.CreateOrder("tail-unreachable-" + UUID.randomUUID(), "olga"));
            HealthEndpoint health = context.getBean(HealthEndpoint.class);
            // the ack timeout is 5 minutes: the reason can only come from the batch waiting for the broker
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                HealthComponent group = health.healthForPath("outbox");
                assertThat(group.getStatus().getCode()).isEqualTo("DEGRADED");
                assertThat((List<String>) indicator(group).getDetails().get("reasons"))
                        .anySatisfy(reason -> assertThat(reason).contains("no acknowledgement for")
                                                                .contains("(the broker does not answer)"));
            });
        }
    }

    /*
     * Hibernate's default pooled optimizer hands each instance blocks of global_index values: with several instances
     * appending, an aggregate's later event can come first in the stream. The tailing mode refuses such a store at
     * start, unless told that a single instance appends.
     */
    @Test
    void aJpaEventStoreWithPooledPositionsIsRefusedAtStartUnlessASingleInstanceAppends() {
        String topic = "persistent://public/default/tail-pooled-" + UUID.randomUUID();

        assertThatThrownBy(() -> withPooledPositions(topic).run().close())
                .hasStackTraceContaining("pulsar-outbox.tailing.allow-pooled-positions")
                .hasStackTraceContaining("pooled sequence (PooledOptimizer, blocks of 50)")
                .hasStackTraceContaining("spring.jpa.properties.hibernate.id.optimizer.pooled.preferred=none");

        try (ConfigurableApplicationContext context = withPooledPositions(topic)
                .properties("pulsar-outbox.tailing.allow-pooled-positions=true").run()) {
            assertThat(context.isRunning()).isTrue();
        }
    }

    /** A tailing application on Hibernate's defaults (global_index in pooled blocks). */
    private static SpringApplicationBuilder withPooledPositions(String topic) {
        return new SpringApplicationBuilder(OutboxTestApplication.class)
                .web(WebApplicationType.NONE)
                .properties("spring.datasource.generate-unique-name=true", "pulsar-outbox.mode=tailing",
                            "spring.pulsar.client.service-url=" + SharedPulsarBroker.serviceUrl(),
                            "pulsar-outbox.pulsar.deduplication=off", "pulsar-outbox.topics.ShopOrder=" + topic);
    }

    /** The {@code outbox} indicator's health, from its group. */
    private static Health indicator(HealthComponent group) {
        return group instanceof CompositeHealth composite ? (Health) composite.getComponents().get("outbox")
                                                          : (Health) group;
    }

    /** One sequence call per event: positions follow each aggregate's sequence (what the tailing mode requires). */
    static final String POSITIONS_FOLLOW_SEQUENCES = "spring.jpa.properties.hibernate.id.optimizer.pooled.preferred=none";

    private static ConfigurableApplicationContext start(String serviceUrl, String... properties) {
        return new SpringApplicationBuilder(OutboxTestApplication.class)
                .web(WebApplicationType.NONE)
                .properties("spring.datasource.generate-unique-name=true", "pulsar-outbox.mode=tailing",
                            POSITIONS_FOLLOW_SEQUENCES,
                            "spring.pulsar.client.service-url=" + serviceUrl,
                            "spring.pulsar.admin.service-url=" + SharedPulsarBroker.adminUrl())
                .properties(properties)
                .run();
    }
}
