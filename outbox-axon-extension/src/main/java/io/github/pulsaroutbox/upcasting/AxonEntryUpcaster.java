package io.github.pulsaroutbox.upcasting;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.GenericDomainEventEntry;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.EntryUpcaster;
import org.axonframework.serialization.SerializedType;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.UnknownSerializedType;
import org.axonframework.serialization.upcasting.Upcaster;
import org.axonframework.serialization.upcasting.event.InitialEventRepresentation;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * Brings outbox rows to the <em>current version</em> of their event type with Axon upcasters — the application's
 * event-store upcasters (so an upcaster is written once), then the {@link PublishedEventUpcaster}s for the published
 * contract only.
 * <p>
 * The current version of an event type is the revision of its class on the classpath (the serializer's
 * {@code RevisionResolver}, i.e. {@code @Revision}; {@value OutboxEntry#NO_REVISION} without one), unless overridden
 * per type name. A row already at the current version is returned untouched, without parsing its payload. Otherwise
 * the chain runs on the row's JSON; the result must be exactly one event, of a known type, at its current version —
 * if not (an upcaster throws, drops or splits the event, or the row's version is newer than the running code knows),
 * an {@link UpcastFailedException} says why and the relay parks the row.
 * <p>
 * Version {@value OutboxEntry#NO_REVISION} is handed to upcasters as Axon's {@code null} revision, and back.
 */
public final class AxonEntryUpcaster implements EntryUpcaster {

    private final Serializer serializer;
    private final List<Upcaster<IntermediateEventRepresentation>> upcasters;
    private final Map<String, String> currentVersionOverrides;
    private final Map<String, Optional<String>> currentVersions = new ConcurrentHashMap<>();

    private AxonEntryUpcaster(Builder builder) {
        builder.validate();
        this.serializer = builder.serializer;
        this.upcasters = List.copyOf(builder.upcasters);
        this.currentVersionOverrides = Map.copyOf(builder.currentVersions);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OutboxEntry upcast(OutboxEntry entry) {
        Optional<String> current = currentVersion(entry.eventType());
        if (current.isPresent() && current.get().equals(entry.version())) {
            return entry;
        }
        List<IntermediateEventRepresentation> results;
        try {
            GenericDomainEventEntry<String> stored = new GenericDomainEventEntry<>(
                    entry.aggregateType(), entry.aggregateId(), entry.aggregateSequence(), entry.id(),
                    entry.timestamp(), entry.eventType(), toAxon(entry.version()), entry.payload(),
                    entry.metadata() == null ? "{}" : entry.metadata());
            Stream<IntermediateEventRepresentation> stream =
                    Stream.of(new InitialEventRepresentation(stored, serializer));
            for (Upcaster<IntermediateEventRepresentation> upcaster : upcasters) {
                stream = upcaster.upcast(stream);
            }
            results = stream.toList();
        } catch (RuntimeException e) {
            throw new UpcastFailedException("Upcasting " + describe(entry.eventType(), entry.version())
                                                    + " failed: " + e, e);
        }
        if (results.size() != 1) {
            throw new UpcastFailedException(results.isEmpty()
                    ? "An upcaster dropped " + describe(entry.eventType(), entry.version())
                      + "; the outbox publishes every captured event (discard the row to skip it)"
                    : "An upcaster split " + describe(entry.eventType(), entry.version()) + " into "
                      + results.size() + " events; the outbox publishes one message per row");
        }
        IntermediateEventRepresentation result = results.get(0);
        SerializedType type = result.getType();
        String version = fromAxon(type.getRevision());
        Optional<String> target = currentVersion(type.getName());
        if (target.isEmpty()) {
            throw new UpcastFailedException(describe(type.getName(), version) + " is not known to the running code "
                                                    + "(no such class and no current version configured)");
        }
        if (!target.get().equals(version)) {
            boolean untouched = type.getName().equals(entry.eventType()) && version.equals(entry.version());
            throw new UpcastFailedException(describe(type.getName(), version) + " is not the current version "
                    + target.get() + (untouched ? " and no upcaster converts it (is it newer than the running code?)"
                    : ": the upcasters stop short of it"));
        }
        try {
            String payload = result.getData(String.class).getData();
            return entry.upcastTo(type.getName(), payload, version);
        } catch (RuntimeException e) {
            throw new UpcastFailedException("Reading the upcast payload of " + describe(type.getName(), version)
                                                    + " failed: " + e, e);
        }
    }

    /** The version rows of this event type are published at, if the type is known. */
    public Optional<String> currentVersion(String eventType) {
        return currentVersions.computeIfAbsent(eventType, this::resolveCurrentVersion);
    }

    private Optional<String> resolveCurrentVersion(String eventType) {
        String configured = currentVersionOverrides.get(eventType);
        if (configured != null) {
            return Optional.of(configured);
        }
        Class<?> type = serializer.classForType(new SimpleSerializedType(eventType, null));
        if (type == null || UnknownSerializedType.class.isAssignableFrom(type)) {
            return Optional.empty();
        }
        return Optional.of(fromAxon(serializer.typeForClass(type).getRevision()));
    }

    private static String toAxon(String version) {
        return OutboxEntry.NO_REVISION.equals(version) ? null : version;
    }

    private static String fromAxon(String revision) {
        return revision == null ? OutboxEntry.NO_REVISION : revision;
    }

    private static String describe(String type, String version) {
        return type + " version " + version;
    }

    /**
     * Builds an {@link AxonEntryUpcaster}. Required: {@link #serializer}. Defaults: no upcasters, current versions
     * from the classpath.
     */
    public static final class Builder {
        private Serializer serializer;
        private final List<Upcaster<IntermediateEventRepresentation>> upcasters = new ArrayList<>();
        private final Map<String, String> currentVersions = new java.util.HashMap<>();

        private Builder() {
        }

        /** The JSON serializer the rows were written with (its converters and revision resolver). Required. */
        public Builder serializer(Serializer serializer) {
            assertNonNull(serializer, "Serializer may not be null");
            this.serializer = serializer;
            return this;
        }

        /** Upcasters to apply, in order (the application's event-store chain first, then outbox-only ones). */
        public Builder upcaster(Upcaster<IntermediateEventRepresentation> upcaster) {
            assertNonNull(upcaster, "upcaster may not be null");
            this.upcasters.add(upcaster);
            return this;
        }

        /** Publishes {@code eventType} (a payload type name) at {@code version} instead of its class's revision. */
        public Builder currentVersion(String eventType, String version) {
            if (eventType == null || eventType.isBlank() || version == null || version.isBlank()) {
                throw new AxonConfigurationException("An event type and its current version may not be blank");
            }
            this.currentVersions.put(eventType, version);
            return this;
        }

        public AxonEntryUpcaster build() {
            return new AxonEntryUpcaster(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(serializer, "The Serializer is a hard requirement and should be provided");
        }
    }
}
