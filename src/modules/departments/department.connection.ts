import { ConnectionType } from '../../graphql/pagination';
import { DepartmentType } from './department.types';

export const DepartmentConnection = ConnectionType(DepartmentType, 'Department', 'department');
