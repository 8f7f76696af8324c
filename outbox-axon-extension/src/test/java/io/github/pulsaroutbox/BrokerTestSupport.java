package io.github.pulsaroutbox;

import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Base of Spring integration tests that talk to the real broker: one broker per test JVM
 * ({@link SharedPulsarBroker}), or the external one given by {@code PULSAR_TEST_SERVICE_URL}.
 */
public abstract class BrokerTestSupport {

    @DynamicPropertySource
    static void pulsarBroker(DynamicPropertyRegistry registry) {
        registry.add("spring.pulsar.client.service-url", SharedPulsarBroker::serviceUrl);
        registry.add("spring.pulsar.admin.service-url", SharedPulsarBroker::adminUrl);
    }
}
