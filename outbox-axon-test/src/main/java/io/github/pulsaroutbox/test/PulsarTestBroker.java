package io.github.pulsaroutbox.test;

import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Pulsar broker for a test run, without Docker: {@code @ExtendWith(PulsarTestBroker.class)} on a test class
 * starts one broker per test JVM on first use (in a JVM of its own, on free ports, deduplication on; stopped when the
 * test JVM exits) and hands its URLs to test methods and constructors that take a {@link PulsarTestBroker.Urls}
 * parameter. {@code PULSAR_TEST_SERVICE_URL} / {@code PULSAR_TEST_ADMIN_URL} use a broker you run instead.
 * <p>
 * Spring Boot tests need no extension: {@link AutoConfigurePulsarTestBroker} points {@code spring.pulsar.*} at it.
 */
public final class PulsarTestBroker implements ParameterResolver {

    /**
     * The broker's URLs.
     *
     * @param serviceUrl the binary service URL ({@code pulsar://…})
     * @param adminUrl   the admin (HTTP) URL
     */
    public record Urls(String serviceUrl, String adminUrl) {
    }

    /** The URLs of the test run's broker, started on first call. */
    public static Urls urls() {
        return new Urls(SharedPulsarBroker.serviceUrl(), SharedPulsarBroker.adminUrl());
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        return parameter.getParameter().getType() == Urls.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        return urls();
    }
}
