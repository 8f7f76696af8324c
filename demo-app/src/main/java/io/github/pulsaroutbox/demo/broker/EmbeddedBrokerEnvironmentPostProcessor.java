package io.github.pulsaroutbox.demo.broker;

import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.Map;

/**
 * When no broker is configured ({@code spring.pulsar.client.service-url} unset) and {@code demo.embedded-broker}
 * is not {@code false}, starts a local Pulsar broker in its own JVM (one per JVM, stopped at exit) and points the
 * application's Pulsar client at it. Demo only: a real service configures its broker.
 */
public class EmbeddedBrokerEnvironmentPostProcessor implements EnvironmentPostProcessor {

    private static final String SERVICE_URL = "spring.pulsar.client.service-url";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.containsProperty(SERVICE_URL)
                || !environment.getProperty("demo.embedded-broker", Boolean.class, true)) {
            return;
        }
        System.out.println("No " + SERVICE_URL + " configured: starting a local Pulsar broker (a few seconds)...");
        String serviceUrl = SharedPulsarBroker.serviceUrl();
        System.out.println("Local Pulsar broker ready at " + serviceUrl + " (admin " + SharedPulsarBroker.adminUrl()
                                   + ")");
        environment.getPropertySources().addFirst(new MapPropertySource("embeddedPulsarBroker", Map.of(
                SERVICE_URL, serviceUrl,
                "spring.pulsar.admin.service-url", SharedPulsarBroker.adminUrl())));
    }
}
