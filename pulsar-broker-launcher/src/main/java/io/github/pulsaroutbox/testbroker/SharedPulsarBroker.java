package io.github.pulsaroutbox.testbroker;

/**
 * One Pulsar broker per JVM, for a whole test run (or a demo), started on first use and stopped by a shutdown hook.
 * <p>
 * If an external broker is given, nothing is started: system property {@value #SERVICE_URL_PROPERTY} or environment
 * variable {@value #SERVICE_URL_ENV} (binary URL), with the admin URL from {@value #ADMIN_URL_PROPERTY} /
 * {@value #ADMIN_URL_ENV} (default: {@code http://127.0.0.1:8080}).
 */
public final class SharedPulsarBroker {

    public static final String SERVICE_URL_PROPERTY = "pulsar.test.service-url";
    public static final String SERVICE_URL_ENV = "PULSAR_TEST_SERVICE_URL";
    public static final String ADMIN_URL_PROPERTY = "pulsar.test.admin-url";
    public static final String ADMIN_URL_ENV = "PULSAR_TEST_ADMIN_URL";

    private static Endpoints endpoints;
    private static PulsarBroker broker;

    private SharedPulsarBroker() {
    }

    /** The broker's binary service URL; starts the shared broker on first call unless an external one is given. */
    public static String serviceUrl() {
        return endpoints().serviceUrl();
    }

    /** The broker's admin (HTTP) URL. */
    public static String adminUrl() {
        return endpoints().adminUrl();
    }

    /** The locally started broker, or {@code null} when an external broker is used. */
    public static synchronized PulsarBroker localBroker() {
        endpoints();
        return broker;
    }

    private static synchronized Endpoints endpoints() {
        if (endpoints == null) {
            String external = setting(SERVICE_URL_PROPERTY, SERVICE_URL_ENV);
            if (external != null) {
                String admin = setting(ADMIN_URL_PROPERTY, ADMIN_URL_ENV);
                endpoints = new Endpoints(external, admin != null ? admin : "http://127.0.0.1:8080");
            } else {
                broker = PulsarBrokerLauncher.create().deduplication(true).start(); // as the outbox expects
                PulsarBroker started = broker;
                Runtime.getRuntime().addShutdownHook(new Thread(started::close, "pulsar-broker-shutdown"));
                endpoints = new Endpoints(started.serviceUrl(), started.webServiceUrl());
            }
        }
        return endpoints;
    }

    private static String setting(String property, String env) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? null : value.trim();
    }

    private record Endpoints(String serviceUrl, String adminUrl) {
    }
}
