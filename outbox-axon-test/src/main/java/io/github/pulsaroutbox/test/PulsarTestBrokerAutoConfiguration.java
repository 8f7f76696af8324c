package io.github.pulsaroutbox.test;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.pulsar.PulsarAutoConfiguration;
import org.springframework.boot.autoconfigure.pulsar.PulsarConnectionDetails;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot's {@link PulsarConnectionDetails} for the test run's broker; imported by
 * {@link AutoConfigurePulsarTestBroker} only (never on its own: an application's classpath may hold this jar).
 */
@AutoConfiguration(before = PulsarAutoConfiguration.class)
@ConditionalOnClass(PulsarConnectionDetails.class)
public class PulsarTestBrokerAutoConfiguration {

    /** The broker's URLs, read when Spring Boot builds the clients. */
    @Bean
    PulsarConnectionDetails pulsarTestBrokerConnectionDetails() {
        return new PulsarConnectionDetails() {
            @Override
            public String getBrokerUrl() {
                return PulsarTestBroker.urls().serviceUrl();
            }

            @Override
            public String getAdminUrl() {
                return PulsarTestBroker.urls().adminUrl();
            }
        };
    }
}
