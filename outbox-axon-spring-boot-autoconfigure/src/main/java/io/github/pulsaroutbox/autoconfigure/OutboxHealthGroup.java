package io.github.pulsaroutbox.autoconfigure;

import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.health.AdditionalHealthEndpointPath;
import org.springframework.boot.actuate.health.HealthEndpointGroup;
import org.springframework.boot.actuate.health.HealthEndpointGroups;
import org.springframework.boot.actuate.health.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.actuate.health.HttpCodeStatusMapper;
import org.springframework.boot.actuate.health.SimpleHttpCodeStatusMapper;
import org.springframework.boot.actuate.health.SimpleStatusAggregator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.actuate.health.StatusAggregator;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Adds the health group {@code outbox} ({@code /actuator/health/outbox}) with the {@code outbox} indicator, always
 * with details (the reasons), its {@code DEGRADED} status first in the order and mapped to HTTP 503 (like DOWN and
 * OUT_OF_SERVICE), so that monitoring can alert on it while the application's own health stays UP. A group
 * {@code outbox} the application defines itself ({@code management.endpoint.health.group.outbox.*}) is kept as it is.
 */
class OutboxHealthGroup implements HealthEndpointGroupsPostProcessor {

    static final String NAME = "outbox";

    @Override
    public HealthEndpointGroups postProcessHealthEndpointGroups(HealthEndpointGroups groups) {
        if (groups.get(NAME) != null) {
            return groups;
        }
        Map<String, HealthEndpointGroup> all = new LinkedHashMap<>();
        groups.getNames().forEach(name -> all.put(name, groups.get(name)));
        all.put(NAME, new Group());
        Set<String> names = new TreeSet<>(all.keySet());
        return new HealthEndpointGroups() {
            @Override
            public HealthEndpointGroup getPrimary() {
                return groups.getPrimary();
            }

            @Override
            public Set<String> getNames() {
                return names;
            }

            @Override
            public HealthEndpointGroup get(String name) {
                return all.get(name);
            }
        };
    }

    private static final class Group implements HealthEndpointGroup {

        private final StatusAggregator aggregator = new SimpleStatusAggregator(
                OutboxHealthIndicator.DEGRADED.getCode(), Status.DOWN.getCode(), Status.OUT_OF_SERVICE.getCode(),
                Status.UP.getCode(), Status.UNKNOWN.getCode());
        private final HttpCodeStatusMapper statusCodes = new SimpleHttpCodeStatusMapper(Map.of(
                OutboxHealthIndicator.DEGRADED.getCode(), 503, Status.DOWN.getCode(), 503,
                Status.OUT_OF_SERVICE.getCode(), 503));

        @Override
        public boolean isMember(String name) {
            return NAME.equals(name);
        }

        @Override
        public boolean showComponents(SecurityContext securityContext) {
            return true;
        }

        @Override
        public boolean showDetails(SecurityContext securityContext) {
            return true;
        }

        @Override
        public StatusAggregator getStatusAggregator() {
            return aggregator;
        }

        @Override
        public HttpCodeStatusMapper getHttpCodeStatusMapper() {
            return statusCodes;
        }

        @Override
        public AdditionalHealthEndpointPath getAdditionalPath() {
            return null;
        }
    }
}
