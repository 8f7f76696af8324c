package io.github.pulsaroutbox.test;

import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the annotation, a Spring Boot application's Pulsar client reaches the test run's broker, even where the
 * application's own properties name another one.
 */
@SpringBootTest(properties = {"spring.pulsar.client.service-url=pulsar://no-such-broker.invalid:6650",
        "spring.pulsar.admin.service-url=http://no-such-broker.invalid:8080"})
@AutoConfigurePulsarTestBroker
class AutoConfigurePulsarTestBrokerIntegrationTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Application {
    }

    @Autowired
    PulsarClient client;

    @Test
    void theApplicationsPulsarClientReachesTheTestBroker() throws Exception {
        String topic = "persistent://public/default/test-kit-boot-" + UUID.randomUUID();
        client.newProducer(Schema.BYTES).topic(topic).create()
              .newMessage().key("k").value("{}".getBytes(StandardCharsets.UTF_8)).property("ce_type", "Created")
              .send();

        assertThat(OutboxTopic.of(client, topic).awaitEventsOf("k", 1, Duration.ofSeconds(30)))
                .singleElement().extracting(OutboxTopic.Event::type).isEqualTo("Created");
    }
}
