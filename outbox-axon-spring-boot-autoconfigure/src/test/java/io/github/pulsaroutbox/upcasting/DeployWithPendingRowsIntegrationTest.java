package io.github.pulsaroutbox.upcasting;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import io.github.pulsaroutbox.upcasting.current.CustomerApp;
import io.github.pulsaroutbox.upcasting.current.CustomerRegistered;
import io.github.pulsaroutbox.upcasting.legacy.LegacyCustomer;
import io.github.pulsaroutbox.upcasting.legacy.LegacyCustomerApp;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A deploy with rows still pending: the previous version of the service captures CustomerRegistered at version 1
 * and stops before relaying them (relay disabled); the new version, with version 3 classes and the upcasters,
 * starts on the same database and publishes them at version 3.
 */
class DeployWithPendingRowsIntegrationTest {

    private final String database = "jdbc:h2:mem:deploy-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    private final String topic = "persistent://public/default/deploy-" + UUID.randomUUID();

    @Test
    void rowsWrittenByThePreviousVersionArePublishedAtTheCurrentOne() throws Exception {
        try (ConfigurableApplicationContext previous = start(LegacyCustomerApp.class, false)) {
            CommandGateway gateway = previous.getBean(CommandGateway.class);
            gateway.sendAndWait(new LegacyCustomer.Register("k-1", "Ada Lovelace", "ada@example.com"));
            gateway.sendAndWait(new LegacyCustomer.Register("k-2", "Edsger Dijkstra", "ewd@example.com"));
            assertThat(previous.getBean(OutboxMaintenance.class).count(OutboxStatus.PENDING)).isEqualTo(2);
        }

        try (PulsarClient client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
             Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("deploy")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .subscribe();
             ConfigurableApplicationContext current = start(CustomerApp.class, true)) {
            Map<String, Message<byte[]>> byKey = new HashMap<>();
            while (byKey.size() < 2) {
                Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).isNotNull();
                byKey.put(message.getKey(), message);
            }
            ObjectMapper json = new ObjectMapper();
            assertThat(json.readValue(byKey.get("k-1").getValue(), CustomerRegistered.class))
                    .isEqualTo(new CustomerRegistered("k-1", "Ada", "Lovelace", "ada@example.com", false));
            assertThat(json.readValue(byKey.get("k-2").getValue(), CustomerRegistered.class))
                    .isEqualTo(new CustomerRegistered("k-2", "Edsger", "Dijkstra", "ewd@example.com", false));
            assertThat(byKey.get("k-1").getProperty(OutboxMessageProperties.SCHEMA_VERSION)).isEqualTo("3");
            // SENT is recorded after the acknowledgements the consumer's receipt implies: wait for it
            OutboxMaintenance maintenance = current.getBean(OutboxMaintenance.class);
            await().atMost(Duration.ofSeconds(60))
                   .untilAsserted(() -> assertThat(maintenance.count(OutboxStatus.PENDING)).isZero());
            assertThat(maintenance.count(OutboxStatus.SENT)).isEqualTo(2);
        }
    }

    private ConfigurableApplicationContext start(Class<?> application, boolean relay) {
        return new SpringApplicationBuilder(application)
                .web(WebApplicationType.NONE)
                .properties("spring.datasource.url=" + database,
                            "spring.jpa.hibernate.ddl-auto=update",
                            "spring.pulsar.client.service-url=" + SharedPulsarBroker.serviceUrl(),
                            "pulsar-outbox.topics.Customer=" + topic,
                            "pulsar-outbox.relay.enabled=" + relay)
                .run();
    }
}
