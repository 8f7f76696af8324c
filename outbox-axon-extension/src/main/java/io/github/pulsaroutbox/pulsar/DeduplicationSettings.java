package io.github.pulsaroutbox.pulsar;

import java.util.Optional;

/**
 * Where {@link DeduplicationCheck} learns whether the broker deduplicates a topic's messages: the setting that applies
 * to the topic (the topic's own, else its namespace's, else the broker's {@code brokerDeduplicationEnabled}), also for
 * a topic that does not exist yet.
 * <p>
 * Implementations: {@link #adminRestApi(String)} (the broker's admin REST API over plain HTTP, no authentication: the
 * plain-Axon default) and, under Spring Boot, one over the application's {@code PulsarAdministration} (its
 * authentication and TLS settings).
 */
public interface DeduplicationSettings {

    /**
     * The deduplication setting that applies to a topic.
     *
     * @param topic a fully qualified topic name ({@code persistent://tenant/namespace/topic})
     * @return the applied setting; empty when no level sets one (the broker's default applies, which is off)
     * @throws Exception when it cannot be asked; the message says why (for example the answer of the admin API)
     */
    Optional<Boolean> applied(String topic) throws Exception;

    /**
     * Opens a reader for one check of several topics: an implementation that holds a connection (an admin client)
     * opens it once here and closes it with the reader. The default reads each topic with {@link #applied}.
     *
     * @return a reader, to be closed after the check
     * @throws Exception when the connection cannot be opened; the message says why
     */
    default Reader open() throws Exception {
        return this::applied;
    }

    /** Reads the applied settings of several topics over one connection ({@link #open}). */
    @FunctionalInterface
    interface Reader extends AutoCloseable {

        /** The deduplication setting that applies to a topic, as {@link DeduplicationSettings#applied}. */
        Optional<Boolean> applied(String topic) throws Exception;

        /** Releases the connection; the default holds none. */
        @Override
        default void close() throws Exception {
        }
    }

    /** Where the settings are read, for messages (for example {@code admin API at http://broker:8080}). */
    String describe();

    /**
     * Reads the settings from the broker's admin REST API over plain HTTP, without authentication.
     *
     * @param adminUrl the broker's admin (web service) URL, e.g. {@code http://broker:8080}
     * @return the settings
     */
    static DeduplicationSettings adminRestApi(String adminUrl) {
        return new AdminRestDeduplicationSettings(adminUrl);
    }
}
