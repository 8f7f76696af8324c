package io.github.pulsaroutbox.pulsar;

import org.axonframework.common.AxonConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Checks, when the outbox starts, that broker deduplication is on for every outbox topic: the precondition of
 * effectively-once delivery (without it delivery is at least once). It asks {@link DeduplicationSettings} for each
 * topic's applied setting (topic, else namespace, else broker; also for a topic not created yet), so on a secured
 * cluster it needs the permission to read topic and namespace policies (and, for topics not created yet, the broker's
 * configuration).
 * <p>
 * {@link Mode#WARN} logs the topics without deduplication and those it could not check, with the reason;
 * {@link Mode#REQUIRE} fails the start naming them, the reason and the command that turns deduplication on;
 * {@link Mode#OFF} does nothing.
 */
public final class DeduplicationCheck implements Consumer<Collection<String>> {

    private static final Logger logger = LoggerFactory.getLogger(DeduplicationCheck.class);

    /** What to do about a topic without deduplication. */
    public enum Mode {
        /** Do not check. */
        OFF,
        /** Log a warning (the default). */
        WARN,
        /** Fail the start. */
        REQUIRE
    }

    private final DeduplicationSettings settings;
    private final Mode mode;

    /**
     * Checks through the broker's admin REST API over plain HTTP, without authentication.
     *
     * @param adminUrl the broker's admin (web service) URL, e.g. {@code http://broker:8080}
     * @param mode     what to do about a topic without deduplication
     */
    public DeduplicationCheck(String adminUrl, Mode mode) {
        this(DeduplicationSettings.adminRestApi(adminUrl), mode);
    }

    /**
     * @param settings where the applied settings are read
     * @param mode     what to do about a topic without deduplication
     */
    public DeduplicationCheck(DeduplicationSettings settings, Mode mode) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    /**
     * Checks the topics.
     *
     * @throws AxonConfigurationException in {@link Mode#REQUIRE} when a topic has deduplication off or cannot be
     *                                    checked
     */
    @Override
    public void accept(Collection<String> topics) {
        if (mode == Mode.OFF || topics.isEmpty()) {
            return;
        }
        List<String> off = new ArrayList<>();
        Map<String, String> unchecked = new TreeMap<>();
        try (DeduplicationSettings.Reader reader = settings.open()) { // one connection for all topics
            for (String topic : new TreeSet<>(topics)) {
                try {
                    if (!reader.applied(PulsarTopics.normalize(topic)).orElse(Boolean.FALSE)) {
                        off.add(topic);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    unchecked.put(topic, "interrupted");
                } catch (Exception e) {
                    logger.debug("Checking deduplication of {} failed", topic, e);
                    unchecked.put(topic, reason(e));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            topics.forEach(topic -> unchecked.putIfAbsent(topic, "interrupted"));
        } catch (Exception e) { // opening (or closing) the connection failed
            logger.debug("Checking deduplication failed", e);
            String why = reason(e);
            topics.stream().filter(topic -> !off.contains(topic)).forEach(topic -> unchecked.putIfAbsent(topic, why));
        }
        if (off.isEmpty() && unchecked.isEmpty()) {
            logger.info("Broker deduplication is on for the outbox topics {}: delivery is effectively once",
                        new TreeSet<>(topics));
            return;
        }
        StringBuilder message = new StringBuilder();
        if (!off.isEmpty()) {
            message.append("Broker deduplication is off for outbox topic(s) ").append(off).append(". ");
        }
        if (!unchecked.isEmpty()) {
            message.append("Could not check broker deduplication (").append(settings.describe()).append(") for ");
            unchecked.forEach((topic, why) -> message.append(topic).append(" (").append(why).append("), "));
            message.setLength(message.length() - 2);
            message.append(". ");
        }
        message.append("Without it delivery is at least once (consumers must deduplicate on ce_id). Turn it on with "
                               + "'pulsar-admin namespaces set-deduplication --enable <tenant/namespace>' (or "
                               + "brokerDeduplicationEnabled=true), or set pulsar-outbox.pulsar.deduplication=warn "
                               + "or off");
        if (mode == Mode.REQUIRE) {
            throw new AxonConfigurationException(message.toString());
        }
        logger.warn(message.toString());
    }

    /** What went wrong, in one line: the failure's message and its deepest cause's (a connection refused, a status). */
    private static String reason(Throwable failure) {
        Throwable deepest = failure;
        while (deepest.getCause() != null && deepest.getCause() != deepest) {
            deepest = deepest.getCause();
        }
        String outer = failure.getMessage();
        String inner = deepest.getMessage();
        if (outer == null || outer.isBlank()) {
            return failure.getClass().getSimpleName() + (inner == null || inner.isBlank() ? "" : ": " + inner);
        }
        return inner == null || inner.isBlank() || outer.contains(inner) ? outer : outer + ": " + inner;
    }
}
